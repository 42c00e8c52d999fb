// The app's client-facing reads of other instances' blocks, for signed-in users only: a query a
// UI subscribes to (it re-runs whenever the component's cache changes), an action that refreshes
// the cache through the gateway, and "what links here". Anonymous callers are refused.
import { blockLookupV, getBlocks, remoteBlockV, type BlockLookup } from "@kbfed/convex-federation";
import { ConvexError, v } from "convex/values";
import { components, internal } from "./_generated/api";
import { action, env, query, type ActionCtx, type QueryCtx } from "./_generated/server";

const MAX_REFRESH = 100;

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
    return await ctx.runQuery(components.federation.resolve.cachedBlock, { urn });
  },
});

/** Resolves references now (the cache first, then the gateway), storing what it learns. */
export const refresh = action({
  args: { refs: v.array(v.string()) },
  returns: v.array(blockLookupV),
  handler: async (ctx, { refs }): Promise<BlockLookup[]> => {
    await requireSignedIn(ctx);
    if (refs.length > MAX_REFRESH) throw new ConvexError({ code: "too_many", message: `at most ${MAX_REFRESH} references` });
    return await getBlocks(ctx, components.federation, refs, {
      getBlock: internal.blocks.get,
      instanceDomain: env.INSTANCE_DOMAIN ?? "",
    });
  },
});

/** What links here: the blocks (ours and cached remote ones) whose references name `ref`. */
export const linksTo = query({
  args: { ref: v.string() },
  returns: v.array(v.string()),
  handler: async (ctx, { ref }) => {
    await requireSignedIn(ctx);
    return await ctx.runQuery(components.federation.resolve.linksTo, { ref });
  },
});
