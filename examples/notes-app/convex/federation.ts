// How the federation component reads this app's notes as blocks (registerRoutes' getBlock and
// listBlocks), and its periodic work, run by crons.ts.
import { blockJsonV, checkCursor, PAGE_MAX_BYTES } from "@kbfed/convex-federation";
import { paginator } from "convex-helpers/server/pagination";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { internalMutation, internalQuery } from "./_generated/server";
import schema from "./schema";
import { asBlock, noteBySlug } from "./notes";

export const getBlock = internalQuery({
  args: { id: v.string() },
  returns: v.union(blockJsonV, v.null()),
  handler: async (ctx, { id }) => {
    const note = await noteBySlug(ctx, id);
    return note === null ? null : asBlock(note);
  },
});

/** Notes in creation order, a page at a time; `federated` keeps the world-shared ones. */
export const listBlocks = internalQuery({
  args: { federated: v.boolean(), cursor: v.union(v.string(), v.null()), limit: v.number() },
  returns: v.object({ items: v.array(blockJsonV), nextCursor: v.union(v.string(), v.null()) }),
  handler: async (ctx, { federated, cursor, limit }) => {
    checkCursor(cursor, federated ? ["string", "number", "string"] : ["number", "string"]);
    const notes = paginator(ctx.db, schema).query("notes");
    const source = federated ? notes.withIndex("by_sharing", (q) => q.eq("sharing", "world")) : notes;
    const page = await source.paginate({ cursor, numItems: limit, maximumBytesRead: PAGE_MAX_BYTES });
    return { items: page.page.map(asBlock), nextCursor: page.isDone ? null : page.continueCursor };
  },
});

export const watchdog = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => await ctx.runMutation(components.federation.outbox.watchdog, {}),
});

export const prune = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await ctx.runMutation(components.federation.outbox.pruneEvents, {});
    await ctx.runMutation(components.federation.inbound.pruneSeen, {});
    return null;
  },
});
