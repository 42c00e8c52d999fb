// The outbox side of a block change: called (through lib.recordChange) inside the app's mutation
// that makes the change, so the event and the change commit together (or not at all).
//
// The write path touches only its own new rows: it never reads the reporter's row, which the
// reporter writes per event, so block writes and reporting never conflict. It schedules a `kick`
// instead, a separate transaction that starts a reporter run if none holds the lease.
import { internal } from "../_generated/api";
import type { MutationCtx } from "../_generated/server";
import type { BlockJson, EventType } from "../../shared/validators";

/**
 * A run renews its lease at every step (a post takes at most the 10 s request timeout); a run
 * silent for longer than this died. With the watchdog every WATCHDOG_SECONDS, reporting resumes
 * within LEASE + WATCHDOG (50 s) of a run's death.
 */
export const REPORTER_LEASE_MS = 30_000;
export const WATCHDOG_SECONDS = 20;
export const INITIAL_BACKOFF_MS = 1000;

export async function recordEvent(
  ctx: MutationCtx,
  type: EventType,
  blockId: string,
  block: BlockJson | null,
): Promise<string> {
  const eventId = `evt-${crypto.randomUUID()}`;
  const body = JSON.stringify({ event_id: eventId, type, block_id: blockId, block });
  const event = await ctx.db.insert("outbox", {
    eventId,
    type,
    blockId,
    state: "pending",
    attempts: 0,
    lastError: null,
    doneAt: null,
  });
  await ctx.db.insert("outboxBodies", { event, body });
  await ctx.scheduler.runAfter(0, internal.outbox.kick, {});
  return eventId;
}
