// Block changes, each with its federation event in the same transaction: the mutation that
// changes a block calls the component's recordChange, which writes the event into the
// component's outbox inside this same transaction.
import { checkBlock, isoTime, recordChange, type BlockJson, type EventType } from "@kbfed/convex-federation";
import { components, internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { env, type MutationCtx, type QueryCtx } from "../_generated/server";

export type Visibility = "public" | "private" | "embargoed";

export interface NewBlock {
  id: string | null;
  kind: string;
  title: string;
  content: string;
  author: string | null;
  visibility: Visibility;
  embargoUntil: number | null;
  references: string[];
  url: string | null;
}

export interface BlockChanges {
  title?: string;
  content?: string;
  kind?: string;
  references?: string[];
  visibility?: Visibility;
  embargoUntil?: number | null;
}

/** The contract's Block JSON for a stored block (any visibility). */
export function blockJson(doc: Omit<Doc<"blocks">, "_id" | "_creationTime">): BlockJson {
  return {
    id: doc.blockId,
    kind: doc.kind,
    title: doc.title,
    content: doc.content,
    author: doc.author,
    visibility: doc.visibility,
    embargo_until: doc.visibility === "embargoed" ? isoTime(doc.embargoUntil) : null,
    created_at: isoTime(doc.createdAt),
    updated_at: isoTime(doc.updatedAt),
    references: doc.references,
    url: doc.url,
  };
}

export async function findBlock(ctx: { db: QueryCtx["db"] }, blockId: string) {
  return await ctx.db
    .query("blocks")
    .withIndex("by_block_id", (q) => q.eq("blockId", blockId))
    .unique();
}

async function federate(ctx: MutationCtx, type: EventType, blockId: string, block: BlockJson | null) {
  await recordChange(ctx, components.federation, { type, blockId, block });
}

/** Inserts a block and its `created` event; null when the chosen id is (or was) taken. */
export async function insertBlock(ctx: MutationCtx, input: NewBlock) {
  const blockId = input.id ?? readableId(input.title);
  const author = input.author ?? env.INSTANCE_NAME ?? "convex";
  const url = input.url ?? pageUrl(blockId);
  const now = Date.now();
  const row = {
    blockId,
    kind: input.kind,
    title: input.title,
    content: input.content,
    author,
    visibility: input.visibility,
    embargoUntil: input.visibility === "embargoed" ? input.embargoUntil : null,
    references: input.references,
    url,
    createdAt: now,
    updatedAt: now,
    federated: input.visibility !== "private",
    embargoReleased: false,
    listed: input.visibility === "public",
  };
  // Refused here, before anything is written, when the gateway would refuse it.
  const references = checkBlock(blockJson(row));
  if ((await findBlock(ctx, blockId)) !== null || (await isRetired(ctx, blockId))) return null;
  const id = await ctx.db.insert("blocks", { ...row, references });
  const doc = await settleEmbargo(ctx, (await ctx.db.get("blocks", id))!);
  await federate(ctx, "created", blockId, blockJson(doc));
  return blockJson(doc);
}

/** Applies a patch; an edit that changes nothing writes nothing and reports nothing. */
export async function editBlock(ctx: MutationCtx, current: Doc<"blocks">, changes: BlockChanges) {
  const visibility = changes.visibility ?? current.visibility;
  const embargoInput = changes.embargoUntil !== undefined ? changes.embargoUntil : current.embargoUntil;
  const next = {
    title: changes.title ?? current.title,
    content: changes.content ?? current.content,
    kind: changes.kind ?? current.kind,
    references: changes.references ?? current.references,
    visibility,
    embargoUntil: visibility === "embargoed" ? embargoInput : null,
  };
  if (visibility === "embargoed" && next.embargoUntil === null) return "embargo_required" as const;
  next.references = checkBlock(blockJson({ ...current, ...next }));
  const moved = next.visibility !== current.visibility || next.embargoUntil !== current.embargoUntil;
  const same =
    !moved &&
    next.title === current.title &&
    next.content === current.content &&
    next.kind === current.kind &&
    JSON.stringify(next.references) === JSON.stringify(current.references);
  if (same) return blockJson(current);
  await ctx.db.patch("blocks", current._id, {
    ...next,
    updatedAt: Date.now(),
    federated: visibility !== "private",
    embargoReleased: false,
    listed: visibility === "public",
  });
  const doc = await settleEmbargo(ctx, (await ctx.db.get("blocks", current._id))!);
  await federate(ctx, moved ? "visibility_changed" : "updated", doc.blockId, blockJson(doc));
  return blockJson(doc);
}

export async function deleteBlock(ctx: MutationCtx, current: Doc<"blocks">): Promise<void> {
  await ctx.db.delete("blocks", current._id);
  await ctx.db.insert("retiredIds", { blockId: current.blockId });
  await federate(ctx, "deleted", current.blockId, null);
}

/**
 * An embargoed block becomes visible on the app's own public surfaces at embargoUntil: a
 * function scheduled for that moment flips `embargoReleased`. A write, rather than queries
 * comparing with Date.now(), because Convex re-runs subscribed queries when data changes, not
 * when time passes. The gateway is told nothing then: the contract has it schedule its own
 * release from embargo_until.
 */
async function settleEmbargo(ctx: MutationCtx, doc: Doc<"blocks">): Promise<Doc<"blocks">> {
  if (doc.visibility !== "embargoed" || doc.embargoUntil === null) return doc;
  if (doc.embargoUntil <= Date.now()) {
    await ctx.db.patch("blocks", doc._id, { embargoReleased: true, listed: true });
    return { ...doc, embargoReleased: true, listed: true };
  }
  await ctx.scheduler.runAt(doc.embargoUntil, internal.embargo.release, {
    blockId: doc.blockId,
    embargoUntil: doc.embargoUntil,
  });
  return doc;
}

async function isRetired(ctx: MutationCtx, blockId: string): Promise<boolean> {
  const row = await ctx.db
    .query("retiredIds")
    .withIndex("by_block_id", (q) => q.eq("blockId", blockId))
    .first();
  return row !== null;
}

/** A slug of the title plus six hex digits, e.g. "meeting-notes-3f9a2c". */
export function readableId(title: string): string {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  const suffix = crypto.randomUUID().replace(/-/g, "").slice(0, 6);
  return `${slug || "block"}-${suffix}`;
}

function pageUrl(blockId: string): string | null {
  const site = env.CONVEX_SITE_URL;
  return site ? `${site.replace(/\/+$/, "")}/blocks/${encodeURIComponent(blockId)}` : null;
}
