// getBlock(ref): "getBlock falls back to fetching from another server".
//   - a local id, or a URN naming our own instance (INSTANCE_DOMAIN): the blocks table;
//   - another instance's URN: the remote-block cache; on a miss or a stale entry, the gateway's
//     resolve (GET for one URN, POST for a batch), whose answer is stored and returned.
// not_found / gone / error come back as values the UI can show, never as thrown errors.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery, type ActionCtx } from "./_generated/server";
import { MAX_RESOLVE_BATCH, resolveResultSchema, type BlockJson, type RemoteBlock } from "./model/contract";
import { resolveUrns } from "./model/gateway";
import { findRemote, forgetRemote, remoteJson, storeRemote } from "./model/remoteCache";

const URN_PREFIX = "urn:block:";
const DEFAULT_TTL_SECONDS = 3600;

export type BlockLookup =
  | { ref: string; status: "ok"; source: "local"; block: BlockJson }
  | { ref: string; status: "ok"; source: "cache" | "gateway"; block: RemoteBlock }
  | { ref: string; status: "not_found" | "gone"; error: null }
  | { ref: string; status: "error"; error: string; staleBlock: RemoteBlock | null };

type Parsed = { local: string } | { urn: string } | { invalid: string };

export const getBlock = internalAction({
  args: { ref: v.string() },
  handler: async (ctx, { ref }): Promise<BlockLookup> => (await lookup(ctx, [ref]))[0]!,
});

export const getBlocks = internalAction({
  args: { refs: v.array(v.string()) },
  handler: async (ctx, { refs }): Promise<BlockLookup[]> => await lookup(ctx, refs),
});

async function lookup(ctx: ActionCtx, refs: string[]): Promise<BlockLookup[]> {
  const parsed = refs.map(parseRef);
  const remote = [...new Set(parsed.flatMap((p) => ("urn" in p ? [p.urn] : [])))];
  const found = await lookupRemote(ctx, remote);
  const out: BlockLookup[] = [];
  for (const [i, p] of parsed.entries()) {
    const ref = refs[i]!;
    if ("invalid" in p) out.push({ ref, status: "error", error: p.invalid, staleBlock: null });
    else if ("urn" in p) out.push({ ...found.get(p.urn)!, ref });
    else {
      const block = await ctx.runQuery(internal.blocks.get, { id: p.local });
      out.push(block ? { ref, status: "ok", source: "local", block } : notFound(ref));
    }
  }
  return out;
}

async function lookupRemote(ctx: ActionCtx, urns: string[]): Promise<Map<string, BlockLookup>> {
  const ttlMs = Number(process.env.REMOTE_CACHE_TTL_SECONDS ?? DEFAULT_TTL_SECONDS) * 1000;
  const cached = await ctx.runQuery(internal.resolve.cached, { urns });
  const result = new Map<string, BlockLookup>();
  const stale = new Map<string, RemoteBlock>();
  for (const entry of cached) {
    if (Date.now() - entry.fetchedAt <= ttlMs) {
      result.set(entry.urn, { ref: entry.urn, status: "ok", source: "cache", block: entry.block });
    } else stale.set(entry.urn, entry.block);
  }
  const misses = urns.filter((urn) => !result.has(urn));
  for (let i = 0; i < misses.length; i += MAX_RESOLVE_BATCH) {
    const answers = await resolveUrns(misses.slice(i, i + MAX_RESOLVE_BATCH));
    await ctx.runMutation(internal.resolve.store, { answers: JSON.stringify(answers) });
    for (const a of answers) {
      if (a.status === "ok" && a.block !== null) {
        result.set(a.urn, { ref: a.urn, status: "ok", source: "gateway", block: a.block });
      } else if (a.status === "error" || a.status === "ok") {
        const error = a.error ?? "the gateway answered ok without a block";
        result.set(a.urn, { ref: a.urn, status: "error", error, staleBlock: stale.get(a.urn) ?? null });
      } else result.set(a.urn, { ref: a.urn, status: a.status, error: null });
    }
  }
  return result;
}

function parseRef(ref: string): Parsed {
  if (!ref.startsWith(URN_PREFIX)) return ref === "" ? { invalid: "empty reference" } : { local: ref };
  const rest = ref.slice(URN_PREFIX.length);
  const split = rest.lastIndexOf(":"); // ids are percent-encoded: the last ":" ends the authority
  if (split <= 0 || split === rest.length - 1) return { invalid: `malformed URN ${ref}` };
  const own = (process.env.INSTANCE_DOMAIN ?? "").toLowerCase();
  if (own === "" || rest.slice(0, split).toLowerCase() !== own) return { urn: ref };
  try {
    return { local: decodeURIComponent(rest.slice(split + 1)) };
  } catch {
    return { invalid: `malformed URN ${ref}` };
  }
}

const notFound = (ref: string): BlockLookup => ({ ref, status: "not_found", error: null });

export const cached = internalQuery({
  args: { urns: v.array(v.string()) },
  handler: async (ctx, { urns }) => {
    const out: { urn: string; fetchedAt: number; block: RemoteBlock }[] = [];
    for (const urn of urns) {
      const doc = await findRemote(ctx, urn);
      if (doc !== null) out.push({ urn, fetchedAt: doc.fetchedAt, block: remoteJson(doc) });
    }
    return out;
  },
});

/** Stores resolve answers: ok replaces the cache entry, gone forgets it, the rest keep it. */
export const store = internalMutation({
  args: { answers: v.string() },
  handler: async (ctx, args) => {
    const answers = resolveResultSchema.array().parse(JSON.parse(args.answers));
    for (const a of answers) {
      if (a.status === "ok" && a.block !== null) await storeRemote(ctx, a.block, Date.now());
      if (a.status === "gone" || a.status === "not_found") await forgetRemote(ctx, a.urn);
    }
  },
});
