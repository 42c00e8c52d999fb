// The app's own note writes, each telling the federation component about the change in the same
// transaction. The only federation-specific code is `asBlock` (how a note reads as a block) and
// the recordChange calls.
import { checkBlock, isoTime, recordChange, type BlockJson } from "@kbfed/convex-federation";
import { v } from "convex/values";
import { components } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import { internalMutation, type QueryCtx } from "./_generated/server";

/** A note as the backend contract's Block: world-shared notes are public, team notes private. */
export function asBlock(note: Omit<Doc<"notes">, "_id">): BlockJson {
  return {
    id: note.slug,
    kind: "note",
    title: note.heading,
    content: note.body,
    author: note.owner,
    visibility: note.sharing === "world" ? "public" : "private",
    embargo_until: null,
    created_at: isoTime(note._creationTime),
    updated_at: isoTime(note.editedAt),
    references: note.seeAlso,
    url: null,
  };
}

export async function noteBySlug(ctx: { db: QueryCtx["db"] }, slug: string) {
  return await ctx.db
    .query("notes")
    .withIndex("by_slug", (q) => q.eq("slug", slug))
    .unique();
}

const noteFields = {
  heading: v.string(),
  body: v.string(),
  sharing: v.union(v.literal("team"), v.literal("world")),
  seeAlso: v.array(v.string()),
};

/** Creates or rewrites the note `slug`; the block it federates as goes with it. */
export const write = internalMutation({
  args: { slug: v.string(), owner: v.string(), ...noteFields },
  returns: v.null(),
  handler: async (ctx, { slug, owner, ...fields }) => {
    const current = await noteBySlug(ctx, slug);
    const now = Date.now();
    const next = { slug, owner, ...fields, editedAt: now, _creationTime: current?._creationTime ?? now };
    const seeAlso = checkBlock(asBlock(next)); // what the gateway would refuse is refused here
    const stored = { slug, owner, ...fields, seeAlso, editedAt: now };
    if (current === null) {
      const id = await ctx.db.insert("notes", stored);
      const note = (await ctx.db.get("notes", id))!;
      await recordChange(ctx, components.federation, { type: "created", blockId: slug, block: asBlock(note) });
    } else {
      await ctx.db.replace("notes", current._id, stored);
      const type = current.sharing === fields.sharing ? "updated" : "visibility_changed";
      const note = (await ctx.db.get("notes", current._id))!;
      await recordChange(ctx, components.federation, { type, blockId: slug, block: asBlock(note) });
    }
    return null;
  },
});

export const remove = internalMutation({
  args: { slug: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { slug }) => {
    const current = await noteBySlug(ctx, slug);
    if (current === null) return false;
    await ctx.db.delete("notes", current._id);
    await recordChange(ctx, components.federation, { type: "deleted", blockId: slug, block: null });
    return true;
  },
});
