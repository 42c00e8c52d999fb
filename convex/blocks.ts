// Our own blocks: reads for the gateway and the app, and the changes that federate.
import { v } from "convex/values";
import { internalMutation, internalQuery, query } from "./_generated/server";
import { visibility } from "./schema";
import { blockJson } from "./model/contract";
import { deleteBlock, editBlock, findBlock, insertBlock } from "./model/blockWrites";

/** One block by local id, whatever its visibility (GET /api/v1/blocks/{id}). */
export const get = internalQuery({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    const doc = await findBlock(ctx, id);
    return doc === null ? null : blockJson(doc);
  },
});

/**
 * One page in creation order (GET /api/v1/blocks). `federated` keeps public and embargoed
 * blocks; paginate()'s cursor on an index ending in _creationTime makes a block created while
 * someone pages land on a later page, never twice.
 */
export const page = internalQuery({
  args: { federated: v.boolean(), cursor: v.union(v.string(), v.null()), limit: v.number() },
  handler: async (ctx, { federated, cursor, limit }) => {
    const source = federated
      ? ctx.db.query("blocks").withIndex("by_federated", (q) => q.eq("federated", true))
      : ctx.db.query("blocks");
    const result = await source.order("asc").paginate({ cursor, numItems: limit });
    return {
      items: result.page.map(blockJson),
      nextCursor: result.isDone ? null : result.continueCursor,
    };
  },
});

/** One block as the world may see it (its human page): null when private or still embargoed. */
export const publicBlock = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    const doc = await findBlock(ctx, id);
    return doc !== null && (doc.visibility === "public" || doc.embargoReleased) ? blockJson(doc) : null;
  },
});

/** What the world may see (the app's public page): never private, embargoed once released. */
export const publicBlocks = query({
  args: {},
  handler: async (ctx) => {
    const docs = await ctx.db
      .query("blocks")
      .withIndex("by_federated", (q) => q.eq("federated", true))
      .collect();
    return docs.filter((d) => d.visibility === "public" || d.embargoReleased).map(blockJson);
  },
});

export const create = internalMutation({
  args: {
    id: v.union(v.string(), v.null()),
    kind: v.string(),
    title: v.string(),
    content: v.string(),
    author: v.union(v.string(), v.null()),
    visibility,
    embargoUntil: v.union(v.number(), v.null()),
    references: v.array(v.string()),
    url: v.union(v.string(), v.null()),
  },
  handler: async (ctx, args) => await insertBlock(ctx, args),
});

export const edit = internalMutation({
  args: {
    id: v.string(),
    title: v.optional(v.string()),
    content: v.optional(v.string()),
    kind: v.optional(v.string()),
    references: v.optional(v.array(v.string())),
    visibility: v.optional(visibility),
    embargoUntil: v.optional(v.union(v.number(), v.null())),
  },
  handler: async (ctx, { id, ...changes }) => {
    const current = await findBlock(ctx, id);
    return current === null ? ("not_found" as const) : await editBlock(ctx, current, changes);
  },
});

export const remove = internalMutation({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    const current = await findBlock(ctx, id);
    if (current === null) return false;
    await deleteBlock(ctx, current);
    return true;
  },
});
