// The remote-block cache: what the gateway reported (inbound) or resolved, by URN.
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { RemoteBlock } from "./contract";

export async function findRemote(ctx: { db: QueryCtx["db"] }, urn: string) {
  return await ctx.db
    .query("remoteBlocks")
    .withIndex("by_urn", (q) => q.eq("urn", urn))
    .unique();
}

/**
 * Inserts or replaces by URN, unless the cache holds a later `updated_at`: notifications and
 * resolves can arrive out of order after retries. Returns whether the block was stored.
 */
export async function storeRemote(ctx: MutationCtx, block: RemoteBlock, now: number) {
  const updatedAt = Date.parse(block.updated_at);
  const existing = await findRemote(ctx, block.urn);
  const fields = {
    urn: block.urn,
    origin: block.origin,
    updatedAt,
    fetchedAt: now,
    block: JSON.stringify(block),
  };
  if (existing === null) {
    await ctx.db.insert("remoteBlocks", fields);
    return true;
  }
  if (existing.updatedAt > updatedAt) return false;
  await ctx.db.replace(existing._id, fields);
  return true;
}

export async function forgetRemote(ctx: MutationCtx, urn: string): Promise<void> {
  const existing = await findRemote(ctx, urn);
  if (existing !== null) await ctx.db.delete(existing._id);
}

export function remoteJson(doc: { block: string }): RemoteBlock {
  return JSON.parse(doc.block) as RemoteBlock;
}
