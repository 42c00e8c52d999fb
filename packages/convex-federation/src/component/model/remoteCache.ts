// The remote-block cache (what the gateway reported or resolved, by normal-form URN) and the
// reference index ("what links here") over it and our own blocks.
import { env } from "../_generated/server";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { MAX_REFERENCES } from "../../shared/bounds";
import { ownAuthority, ownUrn } from "../../shared/refs";
import { looksLikeUrn, normaliseUrn } from "../../shared/urn";
import { remoteBlockValue, type RemoteBlockValue } from "../../shared/validators";

type Reader = { db: QueryCtx["db"] };

export async function findRemote(ctx: Reader, urn: string) {
  return await ctx.db
    .query("remoteBlocks")
    .withIndex("by_urn", (q) => q.eq("urn", urn))
    .unique();
}

/**
 * Inserts or replaces by URN, unless the cache holds a later `updated_at`: notifications and
 * resolves can arrive out of order after retries. Returns whether the block was stored.
 */
export async function storeRemote(ctx: MutationCtx, block: RemoteBlockValue, now: number) {
  const updatedAt = Date.parse(block.updated_at);
  const urn = normaliseUrn(block.urn);
  const existing = await findRemote(ctx, urn);
  const fields = { urn, origin: block.origin, updatedAt, fetchedAt: now, block: remoteBlockValue(block) };
  if (existing !== null && existing.updatedAt > updatedAt) return false;
  if (existing === null) await ctx.db.insert("remoteBlocks", fields);
  else await ctx.db.replace("remoteBlocks", existing._id, fields);
  await setLinks(ctx, urn, block.references);
  return true;
}

export async function forgetRemote(ctx: MutationCtx, urn: string): Promise<void> {
  const existing = await findRemote(ctx, urn);
  if (existing !== null) await ctx.db.delete("remoteBlocks", existing._id);
  await setLinks(ctx, urn, []);
}

/** A reference as a link target: URNs as they are (normal form), local ids as our own URN. */
function linkTarget(reference: string): string {
  return looksLikeUrn(reference) ? reference : (ownUrn(reference, ownAuthority(env.INSTANCE_DOMAIN)) ?? reference);
}

/** Makes the links from `from` exactly `references`, writing only what changed. */
export async function setLinks(ctx: MutationCtx, from: string, references: string[]): Promise<void> {
  const wanted = new Set(references.map(linkTarget));
  const existing = await ctx.db
    .query("links")
    .withIndex("by_from", (q) => q.eq("from", from))
    .take(MAX_REFERENCES); // a block holds at most this many references
  for (const link of existing) {
    if (wanted.has(link.to)) wanted.delete(link.to);
    else await ctx.db.delete("links", link._id);
  }
  for (const to of wanted) await ctx.db.insert("links", { from, to });
}
