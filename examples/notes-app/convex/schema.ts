// An app that existed before federation: its notes have their own names and shapes. Installing
// the federation component adds no field and no table here (the component keeps its own).
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  notes: defineTable({
    slug: v.string(), // the note's address; it becomes the block id
    heading: v.string(),
    body: v.string(),
    owner: v.string(),
    sharing: v.union(v.literal("team"), v.literal("world")), // world-shared notes federate
    seeAlso: v.array(v.string()),
    editedAt: v.number(),
  })
    .index("by_slug", ["slug"])
    .index("by_sharing", ["sharing"]),
});
