// The component's own tables: everything federation needs besides the app's blocks, which stay
// in the app's schema (the app tells the component about each change through recordChange).
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { eventTypeV, followV, remoteBlockV } from "../shared/validators";

export default defineSchema({
  // The federation outbox: written in the same transaction as the app's change it reports. Rows
  // stay small (the body is in outboxBodies), so counting pending events reads no block content.
  outbox: defineTable({
    eventId: v.string(),
    type: eventTypeV,
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

  // "What links here": one row per reference of a block (the app's or a cached remote one), both
  // ends as normal-form URNs (a local id becomes a URN of INSTANCE_DOMAIN).
  links: defineTable({ from: v.string(), to: v.string() })
    .index("by_to", ["to"])
    .index("by_from", ["from"]),

  // Notification ids already applied: POST /api/v1/inbound is idempotent by id. Pruned after the
  // retention window, long past the gateway's last retry.
  inboundSeen: defineTable({ notificationId: v.string(), at: v.number() })
    .index("by_notification_id", ["notificationId"])
    .index("by_at", ["at"]),

  // The latest follow.changed per actor and direction: with mutual follows one actor is both
  // our follower and followed by us, and one row per actor would lose one of the two.
  follows: defineTable({ ...followV.fields, changedAt: v.number() }).index("by_actor_direction", [
    "actor",
    "direction",
  ]),
});
