// The Convex data model of the knowledge base's side of the backend contract
// (docs/backend-contract.md). Times are milliseconds since the epoch; the HTTP layer
// turns them into RFC 3339 strings.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { remoteBlockV } from "./model/validators";

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
    // What the world may see: public, or embargoed and released. Indexed for the public list.
    listed: v.boolean(),
  })
    .index("by_block_id", ["blockId"])
    .index("by_federated", ["federated"])
    .index("by_listed", ["listed"]),

  // Ids of deleted blocks: the contract says an id is never reused for another block.
  retiredIds: defineTable({ blockId: v.string() }).index("by_block_id", ["blockId"]),

  // The federation outbox: written in the same mutation as the change it reports. Rows stay
  // small (the body is in outboxBodies), so counting pending events reads no block content.
  outbox: defineTable({
    eventId: v.string(),
    type: eventType,
    blockId: v.string(),
    state: v.union(v.literal("pending"), v.literal("reported"), v.literal("dropped")),
    attempts: v.number(),
    lastError: v.union(v.string(), v.null()),
    doneAt: v.union(v.number(), v.null()),
  })
    // Pending rows have doneAt null: that range is in write order (then _creationTime).
    .index("by_state_done", ["state", "doneAt"]),

  // The exact JSON posted to the gateway, one row per outbox row until it is reported.
  outboxBodies: defineTable({ event: v.id("outbox"), body: v.string() }).index("by_event", ["event"]),

  // One row, read and written only by the reporter and its watchdog, never by a block write: a
  // run holds it by `token` until `leaseUntil`, renewed by each step (a heartbeat).
  reporter: defineTable({
    token: v.string(),
    leaseUntil: v.number(), // 0 when idle
    backoffMs: v.number(),
    run: v.union(v.id("_scheduled_functions"), v.null()),
  }),

  // Blocks of other instances, as the gateway reported or resolved them, by normal-form URN.
  remoteBlocks: defineTable({
    urn: v.string(),
    origin: v.string(),
    updatedAt: v.number(),
    fetchedAt: v.number(),
    block: remoteBlockV,
  }).index("by_urn", ["urn"]),

  // "What links here": one row per reference of a block (ours or a cached remote one), both ends
  // as normal-form URNs (a local id becomes a URN of INSTANCE_DOMAIN).
  links: defineTable({ from: v.string(), to: v.string() })
    .index("by_to", ["to"])
    .index("by_from", ["from"]),

  // Notification ids already applied: POST /api/v1/inbound is idempotent by id. Pruned after
  // the retention window (crons.ts), long past the gateway's last retry.
  inboundSeen: defineTable({ notificationId: v.string(), at: v.number() })
    .index("by_notification_id", ["notificationId"])
    .index("by_at", ["at"]),

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
