// The outbox side of a block change: called inside the mutation that makes the change, so
// the event and the change commit together (or not at all).
import { internal } from "../_generated/api";
import type { MutationCtx } from "../_generated/server";
import type { BlockJson } from "./contract";

export type EventType = "created" | "updated" | "deleted" | "visibility_changed";

// Longer than any action may run (10 min): a lease past this means its run died.
export const REPORTER_LEASE_MS = 15 * 60 * 1000;
export const INITIAL_BACKOFF_MS = 1000;

export async function recordEvent(
  ctx: MutationCtx,
  type: EventType,
  blockId: string,
  block: BlockJson | null,
): Promise<string> {
  const eventId = `evt-${crypto.randomUUID()}`;
  const body = JSON.stringify({ event_id: eventId, type, block_id: blockId, block });
  await ctx.db.insert("outbox", {
    eventId,
    type,
    blockId,
    body,
    state: "pending",
    attempts: 0,
    lastError: null,
    doneAt: null,
  });
  await wakeReporter(ctx);
  return eventId;
}

/**
 * Schedules a reporter run unless one is already scheduled or running. One run at a time
 * is what keeps the events in order: a second concurrent run could post event n+1 while the
 * first still retries event n.
 */
export async function wakeReporter(ctx: MutationCtx): Promise<void> {
  const now = Date.now();
  const state = await ctx.db.query("reporter").first();
  if (state !== null && state.leaseUntil > now) return;
  if (state === null) {
    await ctx.db.insert("reporter", {
      leaseUntil: now + REPORTER_LEASE_MS,
      backoffMs: INITIAL_BACKOFF_MS,
    });
  } else {
    await ctx.db.patch(state._id, { leaseUntil: now + REPORTER_LEASE_MS });
  }
  await ctx.scheduler.runAfter(0, internal.outbox.report, {});
}
