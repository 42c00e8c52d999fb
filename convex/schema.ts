// The Convex data model of the knowledge base's side of the backend contract
// (docs/backend-contract.md). Times are milliseconds since the epoch; the HTTP layer
// turns them into RFC 3339 strings.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export const visibility = v.union(
  v.literal("public"),
  v.literal("private"),
  v.literal("embargoed"),
);

export const eventType = v.union(
  v.literal("created"),
  v.literal("updated"),
  v.literal("deleted"),
  v.literal("visibility_changed"),
);

export default defineSchema({
  // Our own blocks. Every index ends with _creationTime, which gives the contract's
  // "creation order, stable" paging for free.
  blocks: defineTable({
    blockId: v.string(),
    kind: v.string(),
    title: v.string(),
    content: v.string(),
    author: v.string(),
    visibility,
    embargoUntil: v.union(v.number(), v.null()),
    references: v.array(v.string()),
    url: v.union(v.string(), v.null()),
    createdAt: v.number(),
    updatedAt: v.number(),
    // visibility !== "private": the federated listing reads one index range.
    federated: v.boolean(),
    // Set by the scheduled release at embargoUntil; the app's public surfaces read it.
    embargoReleased: v.boolean(),
  })
    .index("by_block_id", ["blockId"])
    .index("by_federated", ["federated"]),

  // Ids of deleted blocks: the contract says an id is never reused for another block.
  retiredIds: defineTable({ blockId: v.string() }).index("by_block_id", ["blockId"]),

  // The federation outbox: written in the same mutation as the change it reports.
  outbox: defineTable({
    eventId: v.string(),
    type: eventType,
    blockId: v.string(),
    body: v.string(), // the exact JSON posted to the gateway
    state: v.union(v.literal("pending"), v.literal("reported"), v.literal("dropped")),
    attempts: v.number(),
    lastError: v.union(v.string(), v.null()),
    doneAt: v.union(v.number(), v.null()),
  })
    .index("by_state", ["state"])
    .index("by_event_id", ["eventId"]),

  // One row: whether a reporter run is scheduled, and the current backoff.
  reporter: defineTable({
    leaseUntil: v.number(), // a run is scheduled or running until then; 0 when idle
    backoffMs: v.number(),
  }),

  // Blocks of other instances, as the gateway reported or resolved them.
  remoteBlocks: defineTable({
    urn: v.string(),
    origin: v.string(),
    updatedAt: v.number(),
    fetchedAt: v.number(),
    block: v.string(), // the RemoteBlock JSON exactly as the gateway sent it
  }).index("by_urn", ["urn"]),

  // Notification ids already applied: POST /api/v1/inbound is idempotent by id.
  inboundSeen: defineTable({ notificationId: v.string(), at: v.number() }).index(
    "by_notification_id",
    ["notificationId"],
  ),

  // The latest follow.changed per actor and direction: with mutual follows one actor is both
  // our follower and followed by us, and one row per actor would lose one of the two.
  follows: defineTable({
    actor: v.string(),
    direction: v.union(v.literal("following"), v.literal("follower")),
    domain: v.string(),
    state: v.union(
      v.literal("pending"),
      v.literal("accepted"),
      v.literal("rejected"),
      v.literal("undone"),
    ),
    changedAt: v.number(),
  }).index("by_actor_direction", ["actor", "direction"]),
});
