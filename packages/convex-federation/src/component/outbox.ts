// The reporter: posts outbox events to the gateway one at a time, oldest first, and retries
// the head event with exponential backoff for as long as the gateway keeps failing.
//
// Why not @convex-dev/workpool or @convex-dev/action-retrier: both retry each job on its own
// for a set number of attempts, and a job waiting for its retry does not hold back the jobs
// after it, while the contract asks for strict order (event n+1 only after event n got a 2xx)
// and retries without end. One self-rescheduling action holding a lease in the `reporter` row
// gives exactly that, and runs unchanged under convex-test.
//
// One run at a time: a run holds a random `token` in the reporter row, and every step checks
// it still does (a fence), so a run taken for dead that wakes up again stops at its next step.
import { v } from "convex/values";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { internalAction, internalMutation, internalQuery, mutation, query, type MutationCtx } from "./_generated/server";
import { postEvent } from "./model/gateway";
import { INITIAL_BACKOFF_MS, REPORTER_LEASE_MS } from "./model/outbox";

const MAX_BACKOFF_MS = 5 * 60 * 1000;
const RETRY_AFTER_CAP_MS = 10 * 60 * 1000;
const EVENTS_PER_RUN = 50; // then a fresh run, so one action never nears its time limit
const PENDING_COUNT_CAP = 10_000;
const DEAD_RUN_STATES = new Set(["failed", "canceled", "success"]);

export const report = internalAction({
  args: { token: v.string() },
  returns: v.null(),
  handler: async (ctx, { token }) => {
    for (let i = 0; i < EVENTS_PER_RUN; i++) {
      const next = await ctx.runQuery(internal.outbox.oldestPending, {});
      if (next === null) {
        const ended = await ctx.runMutation(internal.outbox.endRunIfIdle, { token });
        if (ended) return null;
        continue;
      }
      const result = await postEvent(next.body);
      if (result.outcome === "retry") {
        console.info(`event ${next.eventId} not reported: ${result.error}`);
        const args = { token, id: next.id, error: result.error, retryAfterMs: result.retryAfterMs };
        await ctx.runMutation(internal.outbox.retryLater, args);
        return null;
      }
      if (result.outcome === "rejected") {
        // The same body will never be accepted; holding it would wedge every later event.
        console.warn(`gateway rejected event ${next.eventId}: ${result.error}`);
      }
      const error = result.outcome === "rejected" ? result.error : null;
      if (!(await ctx.runMutation(internal.outbox.settle, { token, id: next.id, error }))) return null;
    }
    await ctx.runMutation(internal.outbox.continueRun, { token });
    return null;
  },
});

export const oldestPending = internalQuery({
  args: {},
  returns: v.union(v.object({ id: v.id("outbox"), eventId: v.string(), body: v.string() }), v.null()),
  handler: async (ctx) => {
    const event = await ctx.db
      .query("outbox")
      .withIndex("by_state_done", (q) => q.eq("state", "pending").eq("doneAt", null))
      .first();
    if (event === null) return null;
    const body = await ctx.db
      .query("outboxBodies")
      .withIndex("by_event", (q) => q.eq("event", event._id))
      .unique();
    return { id: event._id, eventId: event.eventId, body: body?.body ?? "" };
  },
});

async function reporterRow(ctx: MutationCtx) {
  return await ctx.db.query("reporter").first();
}

/** The reporter row when `token` still holds it (its lease renewed), else null: stop. */
async function heldBy(ctx: MutationCtx, token: string, leaseMs = REPORTER_LEASE_MS) {
  const row = await reporterRow(ctx);
  if (row === null || row.token !== token) return null;
  await ctx.db.patch("reporter", row._id, { leaseUntil: Date.now() + leaseMs });
  return row;
}

/** Starts a run (a fresh token, the lease, one scheduled report) unless a live one holds it. */
async function startRun(ctx: MutationCtx, takeOverFrom: Id<"reporter"> | null) {
  const token = crypto.randomUUID();
  const run = await ctx.scheduler.runAfter(0, internal.outbox.report, { token });
  const fields = { token, leaseUntil: Date.now() + REPORTER_LEASE_MS, run };
  if (takeOverFrom === null) await ctx.db.insert("reporter", { ...fields, backoffMs: INITIAL_BACKOFF_MS });
  else await ctx.db.patch("reporter", takeOverFrom, fields);
}

/** Scheduled by every block write: starts reporting when no run holds the lease. */
export const kick = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const row = await reporterRow(ctx);
    if (row === null) await startRun(ctx, null);
    else if (row.leaseUntil <= Date.now()) await startRun(ctx, row._id);
    return null;
  },
});

/** Releases the lease when nothing is pending; false (keep going) when an event slipped in. */
export const endRunIfIdle = internalMutation({
  args: { token: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { token }) => {
    const row = await heldBy(ctx, token);
    if (row === null) return true; // another run owns reporting now
    const pending = await ctx.db
      .query("outbox")
      .withIndex("by_state_done", (q) => q.eq("state", "pending").eq("doneAt", null))
      .first();
    if (pending !== null) return false;
    await ctx.db.patch("reporter", row._id, { leaseUntil: 0, run: null });
    return true;
  },
});

/** Marks the head event reported (or dropped); false when this run no longer holds the lease. */
export const settle = internalMutation({
  args: { token: v.string(), id: v.id("outbox"), error: v.union(v.string(), v.null()) },
  returns: v.boolean(),
  handler: async (ctx, { token, id, error }) => {
    const row = await heldBy(ctx, token);
    if (row === null) return false;
    // A delivered event keeps the error of its last failed attempt, for operators.
    const outcome = error === null ? { state: "reported" as const } : { state: "dropped" as const, lastError: error };
    await ctx.db.patch("outbox", id, { ...outcome, doneAt: Date.now() });
    const body = await ctx.db
      .query("outboxBodies")
      .withIndex("by_event", (q) => q.eq("event", id))
      .unique();
    if (body !== null && error === null) await ctx.db.delete("outboxBodies", body._id);
    await ctx.db.patch("reporter", row._id, { backoffMs: INITIAL_BACKOFF_MS });
    return true;
  },
});

export const retryLater = internalMutation({
  args: { token: v.string(), id: v.id("outbox"), error: v.string(), retryAfterMs: v.number() },
  returns: v.null(),
  handler: async (ctx, { token, id, error, retryAfterMs }) => {
    const row = await heldBy(ctx, token);
    if (row === null) return null;
    const event = await ctx.db.get("outbox", id);
    if (event !== null) await ctx.db.patch("outbox", id, { attempts: event.attempts + 1, lastError: error });
    const delay = Math.max(row.backoffMs, Math.min(retryAfterMs, RETRY_AFTER_CAP_MS));
    const run = await ctx.scheduler.runAfter(delay, internal.outbox.report, { token });
    await ctx.db.patch("reporter", row._id, {
      backoffMs: Math.min(row.backoffMs * 2, MAX_BACKOFF_MS),
      leaseUntil: Date.now() + delay + REPORTER_LEASE_MS,
      run,
    });
    return null;
  },
});

export const continueRun = internalMutation({
  args: { token: v.string() },
  returns: v.null(),
  handler: async (ctx, { token }) => {
    const row = await heldBy(ctx, token);
    if (row === null) return null;
    const run = await ctx.scheduler.runAfter(0, internal.outbox.report, { token });
    await ctx.db.patch("reporter", row._id, { run });
    return null;
  },
});

/**
 * Run by a cron every WATCHDOG_SECONDS: restarts reporting when events are pending and the run
 * holding the lease is dead, because its scheduled function failed, was canceled or ended
 * without releasing the lease, or because it missed its heartbeat.
 */
export const watchdog = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const pending = await ctx.db
      .query("outbox")
      .withIndex("by_state_done", (q) => q.eq("state", "pending").eq("doneAt", null))
      .first();
    if (pending === null) return null;
    const row = await reporterRow(ctx);
    if (row === null) return await startRun(ctx, null).then(() => null);
    const job = row.run === null ? null : await ctx.db.system.get("_scheduled_functions", row.run);
    const dead = row.leaseUntil <= Date.now() || (job !== null && DEAD_RUN_STATES.has(job.state.kind));
    if (dead) {
      console.warn("the reporter run holding the lease is dead; starting a new one");
      await startRun(ctx, row._id);
    }
    return null;
  },
});

/** Events not yet reported (up to a cap), for /healthz: reads only the small outbox rows. */
export const pendingCount = query({
  args: {},
  returns: v.object({ count: v.number(), capped: v.boolean() }),
  handler: async (ctx) => {
    const rows = await ctx.db
      .query("outbox")
      .withIndex("by_state_done", (q) => q.eq("state", "pending").eq("doneAt", null))
      .take(PENDING_COUNT_CAP + 1);
    return { count: Math.min(rows.length, PENDING_COUNT_CAP), capped: rows.length > PENDING_COUNT_CAP };
  },
});

/** The latest outbox rows in write order (reporting state included), for operators and tests. */
export const events = query({
  args: { limit: v.optional(v.number()) },
  returns: v.array(
    v.object({
      eventId: v.string(),
      type: v.string(),
      blockId: v.string(),
      state: v.string(),
      attempts: v.number(),
      lastError: v.union(v.string(), v.null()),
    }),
  ),
  handler: async (ctx, { limit }) => {
    const latest = await ctx.db.query("outbox").order("desc").take(Math.min(limit ?? 100, 1000));
    return latest.reverse().map((e) => ({
      eventId: e.eventId,
      type: e.type,
      blockId: e.blockId,
      state: e.state,
      attempts: e.attempts,
      lastError: e.lastError,
    }));
  },
});

/** How long a reported or dropped event is kept for operators before the cron prunes it. */
export const EVENT_RETENTION_MS = 7 * 24 * 3600 * 1000;
const PRUNE_BATCH = 500;

/** Run by a cron: deletes done events (and any body left) past retention, a batch at a time. */
export const pruneEvents = mutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - EVENT_RETENTION_MS;
    let deleted = 0;
    for (const state of ["reported", "dropped"] as const) {
      const old = await ctx.db
        .query("outbox")
        .withIndex("by_state_done", (q) => q.eq("state", state).lt("doneAt", cutoff))
        .take(PRUNE_BATCH - deleted);
      for (const event of old) {
        const body = await ctx.db
          .query("outboxBodies")
          .withIndex("by_event", (q) => q.eq("event", event._id))
          .unique();
        if (body !== null) await ctx.db.delete("outboxBodies", body._id);
        await ctx.db.delete("outbox", event._id);
      }
      deleted += old.length;
    }
    if (deleted === PRUNE_BATCH) await ctx.scheduler.runAfter(0, api.outbox.pruneEvents, {});
    return deleted;
  },
});
