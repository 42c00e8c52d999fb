// Other instances' blocks: the cache by normal-form URN and, on a miss or a stale entry, the
// gateway's resolve (GET for one URN, POST for a batch), whose answer is stored and returned.
// The app's client (src/client) reads local ids itself, from the app's own blocks.
// not_found / gone / error come back as values a UI can show, never as thrown errors.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { action, env, internalMutation, internalQuery, query, type ActionCtx } from "./_generated/server";
import { MAX_RESOLVE_BATCH, type RemoteBlock } from "../shared/contract";
import { parseRef, ownAuthority, ownUrn } from "../shared/refs";
import { remoteBlockV, remoteLookupV, type RemoteBlockValue, type RemoteLookup } from "../shared/validators";
import { resolveUrns } from "./model/gateway";
import { findRemote, forgetRemote, storeRemote } from "./model/remoteCache";

const DEFAULT_TTL_SECONDS = 3600;
const MAX_URNS_PER_CALL = 1000;
const MAX_LINKS = 200;

/** Looks up URNs already in normal form: the cache first, then the gateway for misses. */
export const lookup = action({
  args: { urns: v.array(v.string()) },
  returns: v.array(remoteLookupV),
  handler: async (ctx, { urns }): Promise<RemoteLookup[]> => {
    if (urns.length > MAX_URNS_PER_CALL) throw new Error(`at most ${MAX_URNS_PER_CALL} URNs per call`);
    const found = await lookupRemote(ctx, [...new Set(urns)]);
    return urns.map((urn) => found.get(urn)!);
  },
});

async function lookupRemote(ctx: ActionCtx, urns: string[]): Promise<Map<string, RemoteLookup>> {
  const ttlMs = Number(env.REMOTE_CACHE_TTL_SECONDS ?? DEFAULT_TTL_SECONDS) * 1000;
  const result = new Map<string, RemoteLookup>();
  const stale = new Map<string, RemoteBlock>();
  for (let i = 0; i < urns.length; i += MAX_RESOLVE_BATCH) {
    const cached = await ctx.runQuery(internal.resolve.cached, { urns: urns.slice(i, i + MAX_RESOLVE_BATCH) });
    for (const entry of cached) {
      if (Date.now() - entry.fetchedAt <= ttlMs) {
        result.set(entry.urn, { urn: entry.urn, status: "ok", source: "cache", block: entry.block });
      } else stale.set(entry.urn, entry.block);
    }
  }
  const misses = urns.filter((urn) => !result.has(urn));
  for (let i = 0; i < misses.length; i += MAX_RESOLVE_BATCH) {
    const asked = misses.slice(i, i + MAX_RESOLVE_BATCH);
    const answers = await resolveUrns(asked);
    const storable = answers.map((a, j) => ({ urn: asked[j]!, status: a.status, block: a.block }));
    await ctx.runMutation(internal.resolve.store, { answers: storable });
    // Keyed by what we asked: the gateway answers in the order asked.
    for (const [j, a] of answers.entries()) {
      const urn = asked[j]!;
      if (a.status === "ok" && a.block !== null) {
        result.set(urn, { urn, status: "ok", source: "gateway", block: a.block });
      } else if (a.status === "error" || a.status === "ok") {
        const error = a.error ?? "the gateway answered ok without a block";
        result.set(urn, { urn, status: "error", error, staleBlock: stale.get(urn) ?? null });
      } else result.set(urn, { urn, status: a.status, error: null });
    }
  }
  return result;
}

/** The cached copy of a remote block, by any spelling of its URN; null when none is cached. */
export const cachedBlock = query({
  args: { urn: v.string() },
  returns: v.union(v.object({ block: remoteBlockV, fetchedAt: v.number() }), v.null()),
  handler: async (ctx, { urn }) => {
    const parsed = parseRef(urn, ownAuthority(env.INSTANCE_DOMAIN));
    if (!("urn" in parsed)) return null;
    const doc = await findRemote(ctx, parsed.urn);
    return doc === null ? null : { block: doc.block, fetchedAt: doc.fetchedAt };
  },
});

/** What links here: blocks (the app's and cached remote ones) whose references name `ref`. */
export const linksTo = query({
  args: { ref: v.string() },
  returns: v.array(v.string()),
  handler: async (ctx, { ref }) => {
    const own = ownAuthority(env.INSTANCE_DOMAIN);
    const parsed = parseRef(ref, own);
    const target = "urn" in parsed ? parsed.urn : "local" in parsed ? (ownUrn(parsed.local, own) ?? parsed.local) : null;
    if (target === null) return [];
    const links = await ctx.db
      .query("links")
      .withIndex("by_to", (q) => q.eq("to", target))
      .take(MAX_LINKS);
    return links.map((link) => link.from);
  },
});

export const cached = internalQuery({
  args: { urns: v.array(v.string()) },
  returns: v.array(v.object({ urn: v.string(), fetchedAt: v.number(), block: remoteBlockV })),
  handler: async (ctx, { urns }) => {
    const out: { urn: string; fetchedAt: number; block: RemoteBlockValue }[] = [];
    for (const urn of urns) {
      const doc = await findRemote(ctx, urn);
      if (doc !== null) out.push({ urn, fetchedAt: doc.fetchedAt, block: doc.block });
    }
    return out;
  },
});

/** Stores resolve answers: ok replaces the cache entry, gone forgets it, the rest keep it. */
export const store = internalMutation({
  args: {
    answers: v.array(
      v.object({
        urn: v.string(),
        status: v.union(v.literal("ok"), v.literal("gone"), v.literal("not_found"), v.literal("error")),
        block: v.union(remoteBlockV, v.null()),
      }),
    ),
  },
  returns: v.null(),
  handler: async (ctx, { answers }) => {
    for (const a of answers) {
      if (a.status === "ok" && a.block !== null) await storeRemote(ctx, a.block, Date.now());
      if (a.status === "gone" || a.status === "not_found") await forgetRemote(ctx, a.urn);
    }
    return null;
  },
});
