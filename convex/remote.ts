// The app's client-facing reads of other instances' blocks, for signed-in users only: a query a
// UI subscribes to (it re-runs whenever the cache changes), an action that refreshes the cache
// through the gateway, and "what links here". Anonymous callers are refused.
import { ConvexError, v } from "convex/values";
import { action, query, type ActionCtx, type QueryCtx } from "./_generated/server";
import { findRemote, ownUrn } from "./model/remoteCache";
import { remoteBlockV } from "./model/validators";
import { blockLookupV, lookup, parseRef, type BlockLookup } from "./resolve";

const MAX_REFRESH = 100;
const MAX_LINKS = 200;

async function requireSignedIn(ctx: QueryCtx | ActionCtx): Promise<void> {
  if ((await ctx.auth.getUserIdentity()) === null) {
    throw new ConvexError({ code: "unauthenticated", message: "sign in to read other instances' blocks" });
  }
}

/** The cached copy of a remote block, by any spelling of its URN; null when none is cached. */
export const cachedBlock = query({
  args: { urn: v.string() },
  returns: v.union(v.object({ block: remoteBlockV, fetchedAt: v.number() }), v.null()),
  handler: async (ctx, { urn }) => {
    await requireSignedIn(ctx);
    const parsed = parseRef(urn);
    if (!("urn" in parsed)) return null;
    const doc = await findRemote(ctx, parsed.urn);
    return doc === null ? null : { block: doc.block, fetchedAt: doc.fetchedAt };
  },
});

/** Resolves references now (the cache first, then the gateway), storing what it learns. */
export const refresh = action({
  args: { refs: v.array(v.string()) },
  returns: v.array(blockLookupV),
  handler: async (ctx, { refs }): Promise<BlockLookup[]> => {
    await requireSignedIn(ctx);
    if (refs.length > MAX_REFRESH) throw new ConvexError({ code: "too_many", message: `at most ${MAX_REFRESH} references` });
    return await lookup(ctx, refs);
  },
});

/** What links here: the blocks (ours and cached remote ones) whose references name `ref`. */
export const linksTo = query({
  args: { ref: v.string() },
  returns: v.array(v.string()),
  handler: async (ctx, { ref }) => {
    await requireSignedIn(ctx);
    const parsed = parseRef(ref);
    const target = "urn" in parsed ? parsed.urn : "local" in parsed ? (ownUrn(parsed.local) ?? parsed.local) : null;
    if (target === null) return [];
    const links = await ctx.db
      .query("links")
      .withIndex("by_to", (q) => q.eq("to", target))
      .take(MAX_LINKS);
    return links.map((link) => link.from);
  },
});

