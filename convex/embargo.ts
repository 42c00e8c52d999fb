// The scheduled end of an embargo (see settleEmbargo in model/blockWrites.ts).
import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import { findBlock } from "./model/blockWrites";

export const release = internalMutation({
  args: { blockId: v.string(), embargoUntil: v.number() },
  returns: v.null(),
  handler: async (ctx, { blockId, embargoUntil }) => {
    const doc = await findBlock(ctx, blockId);
    // An edit since scheduling (new date, other visibility, deletion) owns the block now.
    if (doc === null || doc.visibility !== "embargoed" || doc.embargoUntil !== embargoUntil) return null;
    await ctx.db.patch("blocks", doc._id, { embargoReleased: true, listed: true });
    return null;
  },
});
