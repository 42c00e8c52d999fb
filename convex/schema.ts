// The example app's own data: its blocks. Federation's tables (outbox, remote-block cache,
// follows, ...) belong to the component it installs (convex.config.ts). Times are milliseconds
// since the epoch; the HTTP layer turns them into RFC 3339 strings.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export const visibility = v.union(
  v.literal("public"),
  v.literal("private"),
  v.literal("embargoed"),
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
});
