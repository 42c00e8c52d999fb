// Block changes, each with its federation event in the same transaction (a Convex mutation).
import { env } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { ConvexError } from "convex/values";
import { checkReferences, textFieldErrors, type FieldError } from "./bounds";
import { blockJson } from "./contract";
import { recordEvent } from "./outbox";
import { ownUrn, setLinks } from "./remoteCache";

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

export async function findBlock(ctx: { db: QueryCtx["db"] }, blockId: string) {
  return await ctx.db
    .query("blocks")
    .withIndex("by_block_id", (q) => q.eq("blockId", blockId))
    .unique();
}

/** What a refused block carries: the gateway's 422 field errors (the HTTP layer answers 422). */
export type InvalidBlock = {
  code: "invalid_block";
  errors: FieldError[];
};

/**
 * The references in normal form when the block holds the gateway's bounds; otherwise a
 * ConvexError naming every field, so no mutation (the app's own included) stores a block the
 * gateway would refuse.
 */
export function checkedReferences(block: {
  id: string;
  kind: string;
  title: string;
  content: string;
  author: string;
  url: string | null;
  references: string[];
}): string[] {
  const errors = textFieldErrors(block);
  const refs = checkReferences(block.references);
  if (refs.error !== null) errors.push(refs.error);
  if (errors.length > 0 || refs.references === null) {
    throw new ConvexError<InvalidBlock>({ code: "invalid_block", errors });
  }
  return refs.references;
}

/** Inserts a block and its `created` event; null when the chosen id is (or was) taken. */
export async function insertBlock(ctx: MutationCtx, input: NewBlock) {
  const blockId = input.id ?? readableId(input.title);
  const author = input.author ?? env.INSTANCE_NAME ?? "convex";
  const url = input.url ?? pageUrl(blockId);
  const references = checkedReferences({ ...input, id: blockId, author, url });
  if ((await findBlock(ctx, blockId)) !== null || (await isRetired(ctx, blockId))) return null;
  const now = Date.now();
  const embargoUntil = input.visibility === "embargoed" ? input.embargoUntil : null;
  const id = await ctx.db.insert("blocks", {
    blockId,
    kind: input.kind,
    title: input.title,
    content: input.content,
    author,
    visibility: input.visibility,
    embargoUntil,
    references,
    url,
    createdAt: now,
    updatedAt: now,
    federated: input.visibility !== "private",
    embargoReleased: false,
    listed: input.visibility === "public",
  });
  await setLinks(ctx, ownUrn(blockId) ?? blockId, references);
  const doc = await settleEmbargo(ctx, (await ctx.db.get("blocks", id))!);
  await recordEvent(ctx, "created", blockId, blockJson(doc));
  return blockJson(doc);
}

/** Applies a patch; an edit that changes nothing writes nothing and reports nothing. */
export async function editBlock(ctx: MutationCtx, current: Doc<"blocks">, changes: BlockChanges) {
  const visibility = changes.visibility ?? current.visibility;
  const embargoInput =
    changes.embargoUntil !== undefined ? changes.embargoUntil : current.embargoUntil;
  const next = {
    title: changes.title ?? current.title,
    content: changes.content ?? current.content,
    kind: changes.kind ?? current.kind,
    references: changes.references ?? current.references,
    visibility,
    embargoUntil: visibility === "embargoed" ? embargoInput : null,
  };
  next.references = checkedReferences({ ...current, ...next, id: current.blockId });
  if (visibility === "embargoed" && next.embargoUntil === null) return "embargo_required" as const;
  const moved =
    next.visibility !== current.visibility || next.embargoUntil !== current.embargoUntil;
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
  if (JSON.stringify(next.references) !== JSON.stringify(current.references)) {
    await setLinks(ctx, ownUrn(current.blockId) ?? current.blockId, next.references);
  }
  const doc = await settleEmbargo(ctx, (await ctx.db.get("blocks", current._id))!);
  await recordEvent(ctx, moved ? "visibility_changed" : "updated", doc.blockId, blockJson(doc));
  return blockJson(doc);
}

export async function deleteBlock(ctx: MutationCtx, current: Doc<"blocks">): Promise<void> {
  await ctx.db.delete("blocks", current._id);
  await ctx.db.insert("retiredIds", { blockId: current.blockId });
  await setLinks(ctx, ownUrn(current.blockId) ?? current.blockId, []);
  await recordEvent(ctx, "deleted", current.blockId, null);
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
