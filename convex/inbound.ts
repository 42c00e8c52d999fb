// POST /api/v1/inbound: remote blocks and follow changes the gateway hands over.
import { v } from "convex/values";
import { internalMutation, internalQuery } from "./_generated/server";
import { inboundSchema } from "./model/contract";
import { findRemote, forgetRemote, remoteJson, storeRemote } from "./model/remoteCache";

/**
 * Applies one notification (already validated by the HTTP action; checked again here so no
 * caller can store a malformed one). Idempotent by id: the check and the write sit in this one
 * transaction, so two deliveries of the same id racing each other apply it once.
 */
export const apply = internalMutation({
  args: { note: v.string() },
  handler: async (ctx, args) => {
    const note = inboundSchema.parse(JSON.parse(args.note));
    const seen = await ctx.db
      .query("inboundSeen")
      .withIndex("by_notification_id", (q) => q.eq("notificationId", note.id))
      .first();
    if (seen !== null) return "duplicate" as const;
    const now = Date.now();
    await ctx.db.insert("inboundSeen", { notificationId: note.id, at: now });
    if (note.type === "remote_block.upsert" && note.block !== null) {
      await storeRemote(ctx, note.block, now);
    } else if (note.type === "remote_block.delete" && note.urn !== null) {
      await forgetRemote(ctx, note.urn);
    } else if (note.follow !== null) {
      const follow = note.follow;
      const existing = await ctx.db
        .query("follows")
        .withIndex("by_actor_direction", (q) =>
          q.eq("actor", follow.actor).eq("direction", follow.direction),
        )
        .unique();
      const fields = { ...follow, changedAt: now };
      if (existing === null) await ctx.db.insert("follows", fields);
      else await ctx.db.replace(existing._id, fields);
    }
    return "applied" as const;
  },
});

export const remoteBlocks = internalQuery({
  args: {},
  handler: async (ctx) => (await ctx.db.query("remoteBlocks").collect()).map(remoteJson),
});

export const remoteBlock = internalQuery({
  args: { urn: v.string() },
  handler: async (ctx, { urn }) => {
    const doc = await findRemote(ctx, urn);
    return doc === null ? null : remoteJson(doc);
  },
});

export const follows = internalQuery({
  args: {},
  handler: async (ctx) =>
    (await ctx.db.query("follows").collect()).map(({ direction, actor, domain, state }) => ({
      direction,
      actor,
      domain,
      state,
    })),
});
