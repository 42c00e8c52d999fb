// The retention of what piles up in the component: reported events and seen notification ids.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import crons from "../../../convex/crons";
import { api } from "../../../packages/convex-federation/src/component/_generated/api";
import { SEEN_RETENTION_MS } from "../../../packages/convex-federation/src/component/inbound";
import { EVENT_RETENTION_MS } from "../../../packages/convex-federation/src/component/outbox";
import { blockOf, drain, GatewayStandIn, makeComponent, remoteBlock } from "../harness";

let gateway: GatewayStandIn;
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  gateway = await new GatewayStandIn().start();
});
afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  await gateway.stop();
});

const created = (id: string) => ({ type: "created" as const, blockId: id, block: blockOf(id) });

describe("retention", () => {
  test("reported and dropped events go after a week, with their bodies; pending ones stay", async () => {
    const t = makeComponent(gateway.url);
    gateway.reply = (req) => ((req.body as { block_id: string }).block_id === "bad" ? { status: 422 } : { status: 202 });
    for (const id of ["ok", "bad"]) await t.mutation(api.lib.recordChange, created(id));
    await drain(t);
    await t.run(async (ctx) => {
      // A run holds the lease, so nothing retries the next event during the week below.
      const reporter = (await ctx.db.query("reporter").first())!;
      await ctx.db.patch("reporter", reporter._id, { token: "busy", leaseUntil: Date.now() + 30 * 24 * 3600_000 });
    });
    await t.mutation(api.lib.recordChange, created("waiting"));
    await drain(t);
    vi.advanceTimersByTime(EVENT_RETENTION_MS - 1000);
    expect(await t.mutation(api.outbox.pruneEvents, {})).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(await t.mutation(api.outbox.pruneEvents, {})).toBe(2);
    const left = await t.query(api.outbox.events, {});
    expect(left.map((e) => [e.blockId, e.state])).toEqual([["waiting", "pending"]]);
    expect(await t.run(async (ctx) => (await ctx.db.query("outboxBodies").take(10)).length)).toBe(1);
  });

  test("seen notification ids go after the retention window, in batches", async () => {
    const t = makeComponent(gateway.url);
    const note = (i: number) => ({ id: `f${i}`, type: "remote_block.delete" as const, urn: remoteBlock("x").urn, block: null, follow: null });
    for (let i = 0; i < 600; i += 200) {
      await t.mutation(api.inbound.apply, { notes: Array.from({ length: 200 }, (_, j) => note(i + j)) });
    }
    vi.advanceTimersByTime(SEEN_RETENTION_MS - 1000);
    expect(await t.mutation(api.inbound.pruneSeen, {})).toBe(0);
    vi.advanceTimersByTime(2000);
    expect(await t.mutation(api.inbound.pruneSeen, {})).toBe(500);
    await drain(t); // the follow-up batch
    expect(await t.run(async (ctx) => (await ctx.db.query("inboundSeen").take(1000)).length)).toBe(0);
  });

  test("the example app runs both prunes and the watchdog on crons", () => {
    const jobs = Object.values(crons.crons).map((job) => [job.name, job.schedule]);
    expect(jobs).toEqual([
      ["federation:watchdog", { type: "interval", seconds: 20 }],
      ["federation:prune", { type: "interval", hours: 1 }],
    ]);
  });
});
