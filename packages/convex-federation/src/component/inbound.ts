// POST /api/v1/inbound: remote blocks and follow changes the gateway hands over, one
// notification or a batch, and the reads of what it handed over.
import { v } from "convex/values";
import { api } from "./_generated/api";
import { mutation, query, type MutationCtx } from "./_generated/server";
import { forgetRemote, findRemote, storeRemote } from "./model/remoteCache";
import { normaliseUrn } from "../shared/urn";
import { followV, notificationV, remoteBlockV, type NotificationValue } from "../shared/validators";

/** Long past the gateway's last retry of a notification: its queue gives up well before. */
export const SEEN_RETENTION_MS = 30 * 24 * 3600 * 1000;
const PRUNE_BATCH = 500;
const MAX_LISTED = 1000;

/**
 * Applies notifications in order, each as if posted alone (already validated by the HTTP
 * action). Idempotent by id: the check and the write sit in this one transaction, so two
 * deliveries of the same id racing each other apply it once.
 */
export const apply = mutation({
  args: { notes: v.array(notificationV) },
  returns: v.array(v.union(v.literal("applied"), v.literal("duplicate"))),
  handler: async (ctx, { notes }) => {
    const outcomes: ("applied" | "duplicate")[] = [];
    for (const note of notes) outcomes.push(await applyOne(ctx, note, Date.now()));
    return outcomes;
  },
});

async function applyOne(ctx: MutationCtx, note: NotificationValue, now: number) {
  const seen = await ctx.db
    .query("inboundSeen")
    .withIndex("by_notification_id", (q) => q.eq("notificationId", note.id))
    .first();
  if (seen !== null) return "duplicate" as const;
  await ctx.db.insert("inboundSeen", { notificationId: note.id, at: now });
  if (note.type === "remote_block.upsert" && note.block !== null) {
    await storeRemote(ctx, note.block, now);
  } else if (note.type === "remote_block.delete" && note.urn !== null) {
    await forgetRemote(ctx, normaliseUrn(note.urn));
  } else if (note.follow !== null) {
    const follow = note.follow;
    const existing = await ctx.db
      .query("follows")
      .withIndex("by_actor_direction", (q) => q.eq("actor", follow.actor).eq("direction", follow.direction))
      .unique();
    const fields = { ...follow, changedAt: now };
    if (existing === null) await ctx.db.insert("follows", fields);
    else await ctx.db.replace("follows", existing._id, fields);
  }
  return "applied" as const;
}

/** The most recently stored remote blocks (the management API's list), at most 1000. */
export const remoteBlocks = query({
  args: {},
  returns: v.array(remoteBlockV),
  handler: async (ctx) => (await ctx.db.query("remoteBlocks").order("desc").take(MAX_LISTED)).map((d) => d.block),
});

export const remoteBlock = query({
  args: { urn: v.string() },
  returns: v.union(remoteBlockV, v.null()),
  handler: async (ctx, { urn }) => (await findRemote(ctx, urn))?.block ?? null,
});

export const follows = query({
  args: {},
  returns: v.array(followV),
  handler: async (ctx) =>
    (await ctx.db.query("follows").take(MAX_LISTED)).map(({ direction, actor, domain, state }) => ({
      direction,
      actor,
      domain,
      state,
    })),
});

/** Run by a cron: forgets seen notification ids past the retention window, a batch at a time. */
export const pruneSeen = mutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - SEEN_RETENTION_MS;
    const old = await ctx.db
      .query("inboundSeen")
      .withIndex("by_at", (q) => q.lt("at", cutoff))
      .take(PRUNE_BATCH);
    for (const row of old) await ctx.db.delete("inboundSeen", row._id);
    if (old.length === PRUNE_BATCH) await ctx.scheduler.runAfter(0, api.inbound.pruneSeen, {});
    return old.length;
  },
});
