// Our own blocks: reads for the gateway and the app, and the changes that federate.
import { blockJsonV, checkCursor, PAGE_MAX_BYTES } from "@kbfed/convex-federation";
import { paginator } from "convex-helpers/server/pagination";
import { v } from "convex/values";
import { internalMutation, internalQuery, query } from "./_generated/server";
import schema, { visibility } from "./schema";
import { blockJson, deleteBlock, editBlock, findBlock, insertBlock } from "./model/blockWrites";
const PUBLIC_PAGE_MAX = 100;

/** One block by local id, whatever its visibility (GET /api/v1/blocks/{id}, getBlock). */
export const get = internalQuery({
  args: { id: v.string() },
  returns: v.union(blockJsonV, v.null()),
  handler: async (ctx, { id }) => {
    const doc = await findBlock(ctx, id);
    return doc === null ? null : blockJson(doc);
  },
});

/**
 * One page in creation order (GET /api/v1/blocks, the component's listBlocks). `federated`
 * keeps public and embargoed blocks; a page stops at PAGE_MAX_BYTES read as well. The cursor is
 * the index key of the page's last block, so a block created while someone pages lands on a
 * later page, never twice. convex-helpers' paginator (rather than .paginate()) because its cursor
 * can be checked: a malformed one is a 400, while any other failure stays a 5xx.
 */
export const page = internalQuery({
  args: { federated: v.boolean(), cursor: v.union(v.string(), v.null()), limit: v.number() },
  returns: v.object({ items: v.array(blockJsonV), nextCursor: v.union(v.string(), v.null()) }),
  handler: async (ctx, { federated, cursor, limit }) => {
    checkCursor(cursor, federated ? ["boolean", "number", "string"] : ["number", "string"]);
    const blocks = paginator(ctx.db, schema).query("blocks");
    const source = federated ? blocks.withIndex("by_federated", (q) => q.eq("federated", true)) : blocks;
    const result = await source.paginate({ cursor, numItems: limit, maximumBytesRead: PAGE_MAX_BYTES });
    return { items: result.page.map(blockJson), nextCursor: result.isDone ? null : result.continueCursor };
  },
});

/** One block as the world may see it (its human page): null when private or still embargoed. */
// eslint-disable-next-line @convex-dev/require-access-control -- only what the human page shows anyone
export const publicBlock = query({
  args: { id: v.string() },
  returns: v.union(blockJsonV, v.null()),
  handler: async (ctx, { id }) => {
    const doc = await findBlock(ctx, id);
    return doc !== null && (doc.visibility === "public" || doc.embargoReleased) ? blockJson(doc) : null;
  },
});

/**
 * What the world may see (the app's public page), newest first, a page at a time: never
 * private, embargoed once released. The `by_listed` index holds exactly these blocks.
 */
// eslint-disable-next-line @convex-dev/require-access-control -- only what the human page shows anyone
export const publicBlocks = query({
  args: { cursor: v.union(v.string(), v.null()), limit: v.number() },
  returns: v.object({ items: v.array(blockJsonV), nextCursor: v.union(v.string(), v.null()) }),
  handler: async (ctx, { cursor, limit }) => {
    const numItems = Math.max(1, Math.min(Math.floor(limit), PUBLIC_PAGE_MAX));
    const result = await ctx.db
      .query("blocks")
      .withIndex("by_listed", (q) => q.eq("listed", true))
      .order("desc")
      .paginate({ cursor, numItems, maximumBytesRead: PAGE_MAX_BYTES });
    return { items: result.page.map(blockJson), nextCursor: result.isDone ? null : result.continueCursor };
  },
});

const writeResult = v.union(blockJsonV, v.null());

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
  returns: writeResult,
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
  returns: v.union(blockJsonV, v.literal("not_found"), v.literal("embargo_required")),
  handler: async (ctx, { id, ...changes }) => {
    const current = await findBlock(ctx, id);
    return current === null ? ("not_found" as const) : await editBlock(ctx, current, changes);
  },
});

export const remove = internalMutation({
  args: { id: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { id }) => {
    const current = await findBlock(ctx, id);
    if (current === null) return false;
    await deleteBlock(ctx, current);
    return true;
  },
});
