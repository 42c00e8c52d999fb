// The reporter: posts outbox events to the gateway one at a time, oldest first, and retries
// the head event with exponential backoff for as long as the gateway keeps failing.
//
// Why not @convex-dev/workpool or @convex-dev/action-retrier: both retry each job on its own
// for a set number of attempts, and a job waiting for its retry does not hold back the jobs
// after it, while the contract asks for strict order (event n+1 only after event n got a 2xx)
// and retries without end. One self-rescheduling action holding a lease in the `reporter` row
// gives exactly that in ~100 lines, and runs unchanged under convex-test (no component to
// register).
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./_generated/server";
import { postEvent } from "./model/gateway";
import { INITIAL_BACKOFF_MS, REPORTER_LEASE_MS, wakeReporter } from "./model/outbox";

const MAX_BACKOFF_MS = 5 * 60 * 1000;
const RETRY_AFTER_CAP_MS = 10 * 60 * 1000;
const EVENTS_PER_RUN = 50; // then a fresh run, so one action never nears its time limit

export const report = internalAction({
  args: {},
  handler: async (ctx) => {
    for (let i = 0; i < EVENTS_PER_RUN; i++) {
      const next = await ctx.runQuery(internal.outbox.oldestPending, {});
      if (next === null) {
        if (await ctx.runMutation(internal.outbox.endRunIfIdle, {})) return;
        continue;
      }
      const result = await postEvent(next.body);
      if (result.outcome === "retry") {
        console.info(`event ${next.eventId} not reported: ${result.error}`);
        await ctx.runMutation(internal.outbox.retryLater, {
          id: next._id,
          error: result.error,
          retryAfterMs: result.retryAfterMs,
        });
        return;
      }
      if (result.outcome === "rejected") {
        // The same body will never be accepted; holding it would wedge every later event.
        console.warn(`gateway rejected event ${next.eventId}: ${result.error}`);
      }
      await ctx.runMutation(internal.outbox.settle, {
        id: next._id,
        error: result.outcome === "rejected" ? result.error : null,
      });
    }
    await ctx.runMutation(internal.outbox.continueRun, {});
  },
});

export const oldestPending = internalQuery({
  args: {},
  handler: async (ctx) =>
    await ctx.db
      .query("outbox")
      .withIndex("by_state", (q) => q.eq("state", "pending"))
      .first(),
});

/** Releases the lease when nothing is pending; false (keep going) when an event slipped in. */
export const endRunIfIdle = internalMutation({
  args: {},
  handler: async (ctx) => {
    const pending = await ctx.db
      .query("outbox")
      .withIndex("by_state", (q) => q.eq("state", "pending"))
      .first();
    if (pending !== null) return false;
    const state = await ctx.db.query("reporter").first();
    if (state !== null) await ctx.db.patch(state._id, { leaseUntil: 0 });
    return true;
  },
});

export const settle = internalMutation({
  args: { id: v.id("outbox"), error: v.union(v.string(), v.null()) },
  handler: async (ctx, { id, error }) => {
    // A delivered event keeps the error of its last failed attempt, for operators.
    const outcome = error === null ? { state: "reported" as const } : { state: "dropped" as const, lastError: error };
    await ctx.db.patch(id, { ...outcome, doneAt: Date.now() });
    const reporter = await ctx.db.query("reporter").first();
    if (reporter !== null) await ctx.db.patch(reporter._id, { backoffMs: INITIAL_BACKOFF_MS });
  },
});

export const retryLater = internalMutation({
  args: { id: v.id("outbox"), error: v.string(), retryAfterMs: v.number() },
  handler: async (ctx, { id, error, retryAfterMs }) => {
    const event = await ctx.db.get(id);
    if (event !== null) await ctx.db.patch(id, { attempts: event.attempts + 1, lastError: error });
    const reporter = await ctx.db.query("reporter").first();
    const backoff = reporter?.backoffMs ?? INITIAL_BACKOFF_MS;
    const delay = Math.max(backoff, Math.min(retryAfterMs, RETRY_AFTER_CAP_MS));
    const fields = {
      backoffMs: Math.min(backoff * 2, MAX_BACKOFF_MS),
      leaseUntil: Date.now() + delay + REPORTER_LEASE_MS,
    };
    if (reporter === null) await ctx.db.insert("reporter", fields);
    else await ctx.db.patch(reporter._id, fields);
    await ctx.scheduler.runAfter(delay, internal.outbox.report, {});
  },
});

export const continueRun = internalMutation({
  args: {},
  handler: async (ctx) => {
    const reporter = await ctx.db.query("reporter").first();
    if (reporter !== null) {
      await ctx.db.patch(reporter._id, { leaseUntil: Date.now() + REPORTER_LEASE_MS });
    }
    await ctx.scheduler.runAfter(0, internal.outbox.report, {});
  },
});

/** Run by a cron: restarts reporting if a run died holding its lease (e.g. a crashed action). */
export const watchdog = internalMutation({
  args: {},
  handler: async (ctx) => {
    const pending = await ctx.db
      .query("outbox")
      .withIndex("by_state", (q) => q.eq("state", "pending"))
      .first();
    if (pending !== null) await wakeReporter(ctx);
  },
});

/** Events not yet reported, for /healthz and the app. */
export const pendingCount = internalQuery({
  args: {},
  handler: async (ctx) =>
    (
      await ctx.db
        .query("outbox")
        .withIndex("by_state", (q) => q.eq("state", "pending"))
        .collect()
    ).length,
});

/** The outbox in write order (reporting state included), for operators and tests. */
export const events = internalQuery({
  args: {},
  handler: async (ctx) =>
    (await ctx.db.query("outbox").order("asc").collect()).map((e) => ({
      eventId: e.eventId,
      type: e.type,
      blockId: e.blockId,
      state: e.state,
      attempts: e.attempts,
      lastError: e.lastError,
    })),
});
