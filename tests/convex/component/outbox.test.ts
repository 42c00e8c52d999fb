// Block changes write their events in the same transaction; the reporter posts them to the
// gateway in order, retries while the gateway fails, and drops what it refuses for good.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import crons, { WATCHDOG_SECONDS } from "../../../convex/crons";
import { api, internal } from "../../../packages/convex-federation/src/component/_generated/api";
import { record } from "../../../packages/convex-federation/src/component/lib";
import { REPORTER_LEASE_MS } from "../../../packages/convex-federation/src/component/model/outbox";
import { blockOf, drain, GatewayStandIn, makeComponent, TOKEN } from "../harness";

async function created(t: ReturnType<typeof makeComponent>, id: string, fields: Parameters<typeof blockOf>[1] = {}) {
  await t.mutation(api.lib.recordChange, { type: "created", blockId: id, block: blockOf(id, fields) });
}

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

describe("outbox", () => {
  test("events reach the gateway in write order, with the token and the contract's shape", async () => {
    const t = makeComponent(gateway.url);
    await created(t, "b1", { visibility: "private" });
    await created(t, "b2");
    await t.mutation(api.lib.recordChange, { type: "updated", blockId: "b1", block: blockOf("b1", { title: "renamed" }) });
    await t.mutation(api.lib.recordChange, { type: "deleted", blockId: "b2", block: null });
    await drain(t);
    const sent = gateway.events();
    expect(sent.map((e) => [e.type, e.block_id])).toEqual([
      ["created", "b1"], ["created", "b2"], ["updated", "b1"], ["deleted", "b2"],
    ]); // fmt: skip
    expect(gateway.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(gateway.requests[0]!.body).toMatchObject({ block: { id: "b1", visibility: "private" } });
    expect(gateway.requests[3]!.body).toMatchObject({ block: null });
    expect(await t.query(api.outbox.pendingCount, {})).toEqual({ count: 0, capped: false });
  });

  test("while the gateway is down the head event is retried with backoff; order holds", async () => {
    const t = makeComponent(gateway.url);
    let failures = 3;
    gateway.reply = (req) => (req.path === "/backend/v1/events" && failures-- > 0 ? { status: 503 } : { status: 202 });
    await created(t, "first");
    await created(t, "second");
    await drain(t);
    const sent = gateway.events();
    expect(sent.map((e) => e.block_id)).toEqual(["first", "first", "first", "first", "second"]);
    expect(new Set(sent.slice(0, 4).map((e) => e.event_id)).size).toBe(1); // same event_id each time
    const events = await t.query(api.outbox.events, {});
    expect(events.map((e) => [e.state, e.attempts])).toEqual([["reported", 3], ["reported", 0]]);
  });

  test("the retry delays grow 1 s, 2 s, 4 s; a longer Retry-After is honoured", async () => {
    const t = makeComponent(gateway.url);
    let failures = 4;
    gateway.reply = () => {
      const retryAfter = failures === 1 ? { "Retry-After": "30" } : undefined;
      return failures-- > 0 ? { status: 429, headers: retryAfter } : { status: 202 };
    };
    await created(t, "b1");
    await drain(t);
    const jobs = await t.run(async (ctx) => await ctx.db.system.query("_scheduled_functions").collect());
    const delays = jobs
      .filter((job) => job.name.includes("report"))
      .map((job) => Math.round((job.scheduledTime - job._creationTime) / 1000) || 0);
    expect(delays).toEqual([0, 1, 2, 4, 30]); // the first run starts at once
    expect(gateway.events()).toHaveLength(5);
  });

  test("an event refused with a final 4xx is dropped and the next one goes out", async () => {
    const t = makeComponent(gateway.url);
    gateway.reply = (req) =>
      (req.body as { block_id: string }).block_id === "bad" ? { status: 422, body: { title: "no" } } : { status: 202 };
    await created(t, "bad");
    await created(t, "good");
    await drain(t);
    expect(gateway.events().map((e) => e.block_id)).toEqual(["bad", "good"]);
    const events = await t.query(api.outbox.events, {});
    expect(events.map((e) => e.state)).toEqual(["dropped", "reported"]);
    expect(events[0]!.lastError).toContain("422");
  });

  test("a redirect is not followed (the token stays with the gateway) and counts as a failure", async () => {
    const t = makeComponent(gateway.url);
    let redirects = 1;
    gateway.reply = () =>
      redirects-- > 0 ? { status: 307, headers: { Location: "http://127.0.0.1:9/elsewhere" } } : { status: 202 };
    await created(t, "b1");
    await drain(t);
    expect(gateway.events().map((e) => e.block_id)).toEqual(["b1", "b1"]);
    expect((await t.query(api.outbox.events, {}))[0]).toMatchObject({ state: "reported", attempts: 1 });
  });
});

describe("reporter runs", () => {
  test("a gateway that does not answer within 10 s counts as a failure and is retried", async () => {
    const t = makeComponent(gateway.url);
    let hang = true;
    gateway.reply = () => (hang ? null : { status: 202 });
    await created(t, "b1");
    vi.advanceTimersByTime(0); // start the reporter
    await vi.waitFor(() => expect(gateway.requests).toHaveLength(1), { interval: 1 });
    hang = false;
    vi.advanceTimersByTime(10_000); // the request timeout
    await drain(t);
    expect(gateway.events().map((e) => e.block_id)).toEqual(["b1", "b1"]);
    const [event] = await t.query(api.outbox.events, {});
    expect(event).toMatchObject({ state: "reported", attempts: 1 });
    expect(event!.lastError).toMatch(/unreachable.*abort/i);
  });

  test("more events than one run posts are all delivered, in order, by follow-up runs", async () => {
    const t = makeComponent(gateway.url);
    const ids = Array.from({ length: 60 }, (_, i) => `b${String(i).padStart(2, "0")}`);
    for (const id of ids) await created(t, id);
    await drain(t);
    expect(gateway.events().map((e) => e.block_id)).toEqual(ids);
  });

  test("a run that died silently is replaced within a minute, not before its heartbeat lapses", async () => {
    const t = makeComponent(gateway.url);
    // A run that died just after its heartbeat: the lease held, nothing scheduled.
    await t.run(async (ctx) => {
      const leaseUntil = Date.now() + REPORTER_LEASE_MS;
      await ctx.db.insert("reporter", { token: "dead", leaseUntil, backoffMs: 1000, run: null });
    });
    await created(t, "b1");
    await t.mutation(api.outbox.watchdog, {});
    await drain(t);
    expect(gateway.events()).toEqual([]); // the heartbeat is recent: no second run yet
    vi.advanceTimersByTime(REPORTER_LEASE_MS);
    await t.mutation(api.outbox.watchdog, {});
    await drain(t);
    expect(gateway.events().map((e) => e.block_id)).toEqual(["b1"]);
    expect(await t.query(api.outbox.pendingCount, {})).toEqual({ count: 0, capped: false });
    // The worst case: death just after a watchdog pass, noticed at the first pass after the lease.
    expect(REPORTER_LEASE_MS + WATCHDOG_SECONDS * 1000).toBeLessThanOrEqual(60_000);
    expect(crons.crons["federation watchdog"]!.schedule).toEqual({ type: "interval", seconds: WATCHDOG_SECONDS });
  });

  test("a run whose scheduled function failed is replaced at the next watchdog pass", async () => {
    const t = makeComponent(gateway.url);
    // A run that fails outright (its arguments are refused) while holding a lease for minutes.
    await t.run(async (ctx) => {
      const run = await ctx.scheduler.runAfter(0, internal.outbox.report, { token: 7 as unknown as string });
      await ctx.db.insert("reporter", { token: "dead", leaseUntil: Date.now() + 10 * 60_000, backoffMs: 1000, run });
    });
    await created(t, "b1");
    await drain(t);
    const [job] = await t.run(async (ctx) => await ctx.db.system.query("_scheduled_functions").take(1));
    expect(job!.state.kind).toBe("failed");
    expect(gateway.events()).toEqual([]);
    await t.mutation(api.outbox.watchdog, {});
    await drain(t);
    expect(gateway.events().map((e) => e.block_id)).toEqual(["b1"]);
  });

  test("a run that lost its lease stops at its next step: never two runs posting at once", async () => {
    const t = makeComponent(gateway.url);
    await created(t, "b1");
    await t.run(async (ctx) => {
      await ctx.db.insert("reporter", { token: "other", leaseUntil: Date.now() + 60_000, backoffMs: 1000, run: null });
    });
    await t.action(internal.outbox.report, { token: "stale" }); // posts once, then finds the fence
    expect(gateway.events()).toHaveLength(1);
    const [event] = await t.query(api.outbox.events, {});
    expect(event!.state).toBe("pending"); // the run holding the lease reports it, not this one
  });
});

describe("the block-write path", () => {
  test("recordChange reads and writes no reporter row (no write conflict with reporting)", async () => {
    const t = makeComponent(gateway.url);
    const touched = new Set<string>();
    await t.run(async (ctx) => {
      const db = new Proxy(ctx.db, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (typeof args[0] === "string") touched.add(args[0]);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const spied = { ...ctx, db } as typeof ctx;
      for (const [type, block] of [["created", blockOf("b1", { references: ["x"] })], ["deleted", null]] as const) {
        await record(spied, { type, blockId: "b1", block });
      }
    });
    expect([...touched].sort()).toEqual(["links", "outbox", "outboxBodies"]);
  });
});
