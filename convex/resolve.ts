// getBlock(ref): "getBlock falls back to fetching from another server".
//   - a local id, or a URN naming our own instance (INSTANCE_DOMAIN): the blocks table;
//   - another instance's URN: the remote-block cache; on a miss or a stale entry, the gateway's
//     resolve (GET for one URN, POST for a batch), whose answer is stored and returned.
// Every URN is read in its normal form first (as the gateway reads it), so any spelling finds
// the cached copy, and a malformed one is an error for that reference alone: it never reaches
// the gateway, whose batch resolve would refuse the whole batch for it.
// not_found / gone / error come back as values the UI can show, never as thrown errors.
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery, type ActionCtx, env } from "./_generated/server";
import { MAX_RESOLVE_BATCH, type BlockJson, type RemoteBlock } from "./model/contract";
import { resolveUrns } from "./model/gateway";
import { findRemote, forgetRemote, storeRemote } from "./model/remoteCache";
import { looksLikeUrn, normaliseAuthority, parseUrn, formatUrn, UrnError } from "./model/urn";
import { blockJsonV, remoteBlockV, type RemoteBlockValue } from "./model/validators";

const DEFAULT_TTL_SECONDS = 3600;
export const MAX_REFS_PER_CALL = 1000;

export type BlockLookup =
  | { ref: string; status: "ok"; source: "local"; block: BlockJson }
  | { ref: string; status: "ok"; source: "cache" | "gateway"; block: RemoteBlock }
  | { ref: string; status: "not_found" | "gone"; error: null }
  | { ref: string; status: "error"; error: string; staleBlock: RemoteBlock | null };

export const blockLookupV = v.union(
  v.object({ ref: v.string(), status: v.literal("ok"), source: v.literal("local"), block: blockJsonV }),
  v.object({ ref: v.string(), status: v.literal("ok"), source: v.union(v.literal("cache"), v.literal("gateway")), block: remoteBlockV }),
  v.object({ ref: v.string(), status: v.union(v.literal("not_found"), v.literal("gone")), error: v.null() }),
  v.object({ ref: v.string(), status: v.literal("error"), error: v.string(), staleBlock: v.union(remoteBlockV, v.null()) }),
);

type Parsed = { local: string } | { urn: string } | { invalid: string };

export const getBlock = internalAction({
  args: { ref: v.string() },
  returns: blockLookupV,
  handler: async (ctx, { ref }): Promise<BlockLookup> => (await lookup(ctx, [ref]))[0]!,
});

export const getBlocks = internalAction({
  args: { refs: v.array(v.string()) },
  returns: v.array(blockLookupV),
  handler: async (ctx, { refs }): Promise<BlockLookup[]> => await lookup(ctx, refs),
});

export async function lookup(ctx: ActionCtx, refs: string[]): Promise<BlockLookup[]> {
  if (refs.length > MAX_REFS_PER_CALL) throw new Error(`at most ${MAX_REFS_PER_CALL} references per call`);
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
      out.push(block ? { ref, status: "ok", source: "local", block } : { ref, status: "not_found", error: null });
    }
  }
  return out;
}

async function lookupRemote(ctx: ActionCtx, urns: string[]): Promise<Map<string, BlockLookup>> {
  const ttlMs = Number(env.REMOTE_CACHE_TTL_SECONDS ?? DEFAULT_TTL_SECONDS) * 1000;
  const result = new Map<string, BlockLookup>();
  const stale = new Map<string, RemoteBlock>();
  for (let i = 0; i < urns.length; i += MAX_RESOLVE_BATCH) {
    const cached = await ctx.runQuery(internal.resolve.cached, { urns: urns.slice(i, i + MAX_RESOLVE_BATCH) });
    for (const entry of cached) {
      if (Date.now() - entry.fetchedAt <= ttlMs) {
        result.set(entry.urn, { ref: entry.urn, status: "ok", source: "cache", block: entry.block });
      } else stale.set(entry.urn, entry.block);
    }
  }
  const misses = urns.filter((urn) => !result.has(urn));
  for (let i = 0; i < misses.length; i += MAX_RESOLVE_BATCH) {
    const asked = misses.slice(i, i + MAX_RESOLVE_BATCH);
    const answers = await resolveUrns(asked);
    await ctx.runMutation(internal.resolve.store, { answers: answers.map((a, j) => storable(asked[j]!, a)) });
    // Keyed by what we asked: the gateway answers in the order asked, whatever it writes in `urn`.
    for (const [j, a] of answers.entries()) {
      const urn = asked[j]!;
      if (a.status === "ok" && a.block !== null) {
        result.set(urn, { ref: urn, status: "ok", source: "gateway", block: a.block });
      } else if (a.status === "error" || a.status === "ok") {
        const error = a.error ?? "the gateway answered ok without a block";
        result.set(urn, { ref: urn, status: "error", error, staleBlock: stale.get(urn) ?? null });
      } else result.set(urn, { ref: urn, status: a.status, error: null });
    }
  }
  return result;
}

const storable = (urn: string, a: { status: "ok" | "gone" | "not_found" | "error"; block: RemoteBlock | null }) => ({
  urn,
  status: a.status,
  block: a.block,
});

/** A local id, a URN (normal form) of another instance, our own URN as a local id, or an error. */
export function parseRef(ref: string): Parsed {
  if (!looksLikeUrn(ref)) return ref === "" ? { invalid: "empty reference" } : { local: ref };
  try {
    const urn = parseUrn(ref);
    return urn.authority === ownAuthority() ? { local: urn.localId } : { urn: formatUrn(urn) };
  } catch (error) {
    if (!(error instanceof UrnError)) throw error;
    return { invalid: `malformed URN: ${error.message}` };
  }
}

function ownAuthority(): string | null {
  try {
    return normaliseAuthority(env.INSTANCE_DOMAIN ?? "");
  } catch {
    return null;
  }
}

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
