// Inbound batches as the reference backend takes them, and the retention of what piles up.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../../convex/_generated/api";
import crons from "../../convex/crons";
import { SEEN_RETENTION_MS } from "../../convex/inbound";
import { EVENT_RETENTION_MS } from "../../convex/outbox";
import { auth, drain, GatewayStandIn, makeBackend, newBlock, remoteBlock } from "./harness";

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] }));
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const post = (body: unknown) => ({
  method: "POST",
  headers: { ...auth, "Content-Type": "application/json" },
  body: JSON.stringify(body),
});
const upsert = (id: string, block = remoteBlock(id)) => ({ id: `n-${id}`, type: "remote_block.upsert", urn: block.urn, block });
const stored = async (t: ReturnType<typeof makeBackend>) =>
  (await t.query(internal.inbound.remoteBlocks, {})).map((b) => b.id).sort();

describe("POST /api/v1/inbound with an array", () => {
  test("applies each notification in order, as if posted alone, and answers 204 once", async () => {
    const t = makeBackend();
    const del = { id: "n-del", type: "remote_block.delete", urn: remoteBlock("r2").urn };
    const res = await t.fetch("/api/v1/inbound", post([upsert("r1"), upsert("r2"), del, upsert("r1")]));
    expect(res.status).toBe(204);
    expect(await stored(t)).toEqual(["r1"]);
    // Idempotent per item: a batch repeating a seen id applies only the new ones.
    expect((await t.fetch("/api/v1/inbound", post([upsert("r2"), { ...upsert("r3") }]))).status).toBe(204);
    expect(await stored(t)).toEqual(["r1", "r3"]); // n-r2 was seen: r2 stays deleted
  });

  test("a malformed item is a 422 naming it, and none of the batch is stored", async () => {
    const t = makeBackend();
    const bad = { ...upsert("r2"), block: { ...remoteBlock("r2"), title: "x".repeat(1001) } };
    const res = await t.fetch("/api/v1/inbound", post([upsert("r1"), bad]));
    expect(res.status).toBe(422);
    expect((await res.json()).errors).toEqual([{ field: "items.1.block.title", message: "String should have at most 1000 characters" }]);
    expect(await stored(t)).toEqual([]);
  });

  test("an empty array and one over 256 items are 422", async () => {
    const t = makeBackend();
    expect((await t.fetch("/api/v1/inbound", post([]))).status).toBe(422);
    const many = Array.from({ length: 257 }, (_, i) => ({ id: `f${i}`, type: "remote_block.delete", urn: remoteBlock("x").urn }));
    expect((await t.fetch("/api/v1/inbound", post(many))).status).toBe(422);
  });

  test("a remote block is stored with its references in normal form; a malformed one is refused", async () => {
    const t = makeBackend();
    const block = { ...remoteBlock("r1"), references: ["URN:block:Gamma.Example:x"] };
    expect((await t.fetch("/api/v1/inbound", post(upsert("r1", block)))).status).toBe(204);
    expect(await t.query(internal.inbound.remoteBlock, { urn: block.urn })).toMatchObject({ references: ["urn:block:gamma.example:x"] });
    const local = { ...remoteBlock("r2"), references: ["local-id"] };
    const res = await t.fetch("/api/v1/inbound", post(upsert("r2", local)));
    expect((await res.json()).errors).toEqual([{ field: "block.references", message: "Value error, a remote block's references must all be URNs" }]);
  });
});

describe("retention", () => {
  test("reported and dropped events go after a week; pending ones stay", async () => {
    const gateway = await new GatewayStandIn().start();
    try {
      const t = makeBackend(gateway.url);
      gateway.reply = (req) => ((req.body as { block_id: string }).block_id === "bad" ? { status: 422 } : { status: 202 });
      for (const id of ["ok", "bad"]) await t.mutation(internal.blocks.create, { ...newBlock, id });
      await drain(t);
      gateway.reply = () => ({ status: 503 }); // the next event stays pending
      await t.run(async (ctx) => {
        // A run holds the lease, so nothing retries the new event during the week below.
        const reporter = (await ctx.db.query("reporter").first())!;
        await ctx.db.patch("reporter", reporter._id, { token: "busy", leaseUntil: Date.now() + 30 * 24 * 3600_000 });
      });
      await t.mutation(internal.blocks.create, { ...newBlock, id: "waiting" });
      await drain(t);
      vi.advanceTimersByTime(EVENT_RETENTION_MS - 1000);
      expect(await t.mutation(internal.outbox.pruneEvents, {})).toBe(0);
      vi.advanceTimersByTime(2000);
      expect(await t.mutation(internal.outbox.pruneEvents, {})).toBe(2);
      const left = await t.query(internal.outbox.events, {});
      expect(left.map((e) => [e.blockId, e.state])).toEqual([["waiting", "pending"]]);
      expect(await t.run(async (ctx) => (await ctx.db.query("outboxBodies").collect()).length)).toBe(1);
    } finally {
      await gateway.stop();
    }
  });

  test("seen notification ids go after the retention window, in batches", async () => {
    const t = makeBackend();
    const notes = Array.from({ length: 600 }, (_, i) => ({ id: `f${i}`, type: "remote_block.delete", urn: remoteBlock("x").urn }));
    for (let i = 0; i < notes.length; i += 200) await t.fetch("/api/v1/inbound", post(notes.slice(i, i + 200)));
    vi.advanceTimersByTime(SEEN_RETENTION_MS + 1000);
    expect(await t.mutation(internal.inbound.pruneSeen, {})).toBe(500);
    vi.advanceTimersByTime(0);
    await t.finishInProgressScheduledFunctions(); // the follow-up batch
    expect(await t.run(async (ctx) => (await ctx.db.query("inboundSeen").collect()).length)).toBe(0);
  });

  test("both prunes are on a cron", () => {
    const jobs = Object.values(crons.crons).map((job) => job.name);
    expect(jobs).toEqual(expect.arrayContaining(["outbox:pruneEvents", "inbound:pruneSeen"]));
  });
});
