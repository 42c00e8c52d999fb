// getBlock(ref): local ids and our own URNs from the table, remote URNs from the cache or the
// gateway's resolve; not_found, gone and error come back as values.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, components, internal } from "../../convex/_generated/api";
import { GatewayStandIn, auth, makeBackend, newBlock, remoteBlock, TOKEN } from "./harness";

let gateway: GatewayStandIn;
beforeEach(async () => {
  gateway = await new GatewayStandIn().start();
});
afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  await gateway.stop();
});

const ok = (id: string) => ({ urn: `urn:block:beta.example:${id}`, status: "ok", block: remoteBlock(id), error: null, cached: false });
const urnOf = (id: string) => `urn:block:beta.example:${id}`;
const user = { subject: "user-1", issuer: "https://auth.example" };
/** getBlock as the app's signed-in client calls it (remote.refresh, the cache then the gateway). */
const getBlocks = async (t: ReturnType<typeof makeBackend>, refs: string[]) =>
  await t.withIdentity(user).action(api.remote.refresh, { refs });
const getBlock = async (t: ReturnType<typeof makeBackend>, ref: string) => (await getBlocks(t, [ref]))[0]!;
const resolves = () => gateway.requests.filter((r) => r.path.startsWith("/backend/v1/resolve"));

/** A backend whose cached copy of r1 (a 60 s TTL) has just gone stale. */
async function staleR1() {
  vi.useFakeTimers({ toFake: ["Date"] });
  const t = makeBackend(gateway.url);
  vi.stubEnv("REMOTE_CACHE_TTL_SECONDS", "60");
  gateway.reply = () => ({ status: 200, body: ok("r1") });
  await getBlock(t, urnOf("r1"));
  vi.advanceTimersByTime(61_000);
  return t;
}

test("a local id and our own URN read the local table, any visibility, without the gateway", async () => {
  const t = makeBackend(gateway.url);
  await t.mutation(internal.blocks.create, { ...newBlock, id: "a b", visibility: "private" });
  for (const ref of ["a b", "urn:block:alpha.example:a%20b", "urn:block:ALPHA.example:a%20b"]) {
    expect(await getBlock(t, ref)).toMatchObject({ status: "ok", source: "local", block: { id: "a b" } });
  }
  expect(await getBlock(t, "missing")).toMatchObject({ status: "not_found" });
  expect(resolves()).toEqual([]);
});

test("a remote URN missing from the cache is resolved through the gateway, stored, then served from the cache", async () => {
  const t = makeBackend(gateway.url);
  gateway.reply = () => ({ status: 200, body: ok("r1") });
  const first = await getBlock(t, urnOf("r1"));
  expect(first).toMatchObject({ status: "ok", source: "gateway", block: { urn: urnOf("r1") } });
  expect(resolves()).toHaveLength(1);
  expect(resolves()[0]).toMatchObject({ method: "GET", authorization: `Bearer ${TOKEN}` });
  expect(resolves()[0]!.path).toBe(`/backend/v1/resolve?urn=${encodeURIComponent(urnOf("r1"))}`);
  const second = await getBlock(t, urnOf("r1"));
  expect(second).toMatchObject({ status: "ok", source: "cache" });
  expect(resolves()).toHaveLength(1);
  expect(await t.query(components.federation.inbound.remoteBlock, { urn: urnOf("r1") })).toMatchObject({ id: "r1" });
});

test("a block the gateway pushed (inbound) is served from the cache", async () => {
  const t = makeBackend(gateway.url);
  const note = { id: "n1", type: "remote_block.upsert", urn: urnOf("r2"), block: remoteBlock("r2") };
  await t.fetch("/api/v1/inbound", { method: "POST", headers: auth, body: JSON.stringify(note) });
  expect(await getBlock(t, urnOf("r2"))).toMatchObject({ status: "ok", source: "cache" });
  expect(resolves()).toEqual([]);
});

test("a stale entry is resolved again", async () => {
  const t = await staleR1();
  expect(await getBlock(t, urnOf("r1"))).toMatchObject({ source: "gateway" });
  expect(resolves()).toHaveLength(2);
});

test("several misses go in one POST batch, answers in the order asked", async () => {
  const t = makeBackend(gateway.url);
  gateway.reply = (req) => {
    const urns = (req.body as { urns: string[] }).urns;
    const results = urns.map((urn) =>
      urn.endsWith(":r1") ? ok("r1") : { urn, status: urn.endsWith(":gone") ? "gone" : "not_found", block: null, error: null, cached: false },
    );
    return { status: 200, body: { results } };
  };
  const refs = [urnOf("r1"), urnOf("gone"), "local-missing", urnOf("nope")];
  const answers = await getBlocks(t, refs);
  expect(answers.map((a) => [a.ref, a.status])).toEqual([
    [urnOf("r1"), "ok"], [urnOf("gone"), "gone"], ["local-missing", "not_found"], [urnOf("nope"), "not_found"],
  ]); // fmt: skip
  expect(resolves()).toHaveLength(1);
  expect(resolves()[0]).toMatchObject({ method: "POST", body: { urns: [urnOf("r1"), urnOf("gone"), urnOf("nope")] } });
});

test("gone forgets the cached copy", async () => {
  const t = await staleR1();
  gateway.reply = () => ({ status: 200, body: { urn: urnOf("r1"), status: "gone", block: null, error: null, cached: false } });
  expect(await getBlock(t, urnOf("r1"))).toMatchObject({ status: "gone" });
  expect(await t.query(components.federation.inbound.remoteBlock, { urn: urnOf("r1") })).toBeNull();
});

test("a failing gateway is an error value; a stale copy comes with it", async () => {
  const t = await staleR1();
  gateway.reply = () => ({ status: 503, body: { title: "down" } });
  expect(await getBlock(t, urnOf("r1"))).toMatchObject({
    status: "error",
    error: expect.stringContaining("503"),
    staleBlock: { id: "r1" },
  });
  expect(await getBlock(t, urnOf("never"))).toMatchObject({ status: "error", staleBlock: null });
  await gateway.stop();
  expect(await getBlock(t, urnOf("x"))).toMatchObject({
    status: "error",
    error: expect.stringContaining("could not resolve"),
  });
  gateway = await new GatewayStandIn().start();
});

test("the gateway's error status and a malformed URN are values too", async () => {
  const t = makeBackend(gateway.url);
  gateway.reply = () => ({ status: 200, body: { urn: urnOf("r9"), status: "error", block: null, error: "origin down", cached: false } });
  expect(await getBlock(t, urnOf("r9"))).toMatchObject({ status: "error", error: "origin down" });
  expect(await getBlock(t, "urn:block:nocolon")).toMatchObject({ status: "error" });
});

describe("URNs in any spelling", () => {
  test("a URN not in normal form finds the cached block, with its status, without the gateway", async () => {
    const t = makeBackend(gateway.url);
    const note = { id: "n1", type: "remote_block.upsert", urn: urnOf("r1"), block: remoteBlock("r1") };
    await t.fetch("/api/v1/inbound", { method: "POST", headers: auth, body: JSON.stringify(note) });
    for (const ref of ["urn:block:BETA.example:r1", "URN:BLOCK:beta.example:%72%31"]) {
      expect(await getBlock(t, ref)).toMatchObject({ ref, status: "ok", source: "cache" });
    }
    expect(resolves()).toEqual([]);
  });

  test("a miss is asked in normal form and answered under the ref as given", async () => {
    const t = makeBackend(gateway.url);
    gateway.reply = () => ({ status: 200, body: ok("r1") });
    const answer = await getBlock(t, "urn:block:Beta.Example:r1");
    expect(answer).toMatchObject({ ref: "urn:block:Beta.Example:r1", status: "ok", source: "gateway" });
    expect(resolves()[0]!.path).toBe(`/backend/v1/resolve?urn=${encodeURIComponent(urnOf("r1"))}`);
    expect(await getBlock(t, urnOf("r1"))).toMatchObject({ source: "cache" });
  });

  test("one malformed URN is an error for itself alone; the rest of the batch is resolved", async () => {
    const t = makeBackend(gateway.url);
    gateway.reply = (req) => {
      const urns = (req.body as { urns: string[] }).urns;
      return { status: 200, body: { results: urns.map((urn) => (urn.endsWith(":r1") ? ok("r1") : ok("r2"))) } };
    };
    const refs = [urnOf("r1"), "urn:nonsense", "urn:block:bad_host:x", "URN:block:beta.example:r2"];
    const answers = await getBlocks(t, refs);
    expect(answers.map((a) => [a.ref, a.status])).toEqual([
      [urnOf("r1"), "ok"], ["urn:nonsense", "error"], ["urn:block:bad_host:x", "error"], ["URN:block:beta.example:r2", "ok"],
    ]); // fmt: skip
    expect(answers[1]).toMatchObject({ error: "malformed URN: not a block URN (expected 'urn:block:...'): 'urn:nonsense'" });
    expect(resolves()).toHaveLength(1);
    expect(resolves()[0]!.body).toEqual({ urns: [urnOf("r1"), urnOf("r2")] });
  });
});

describe("the app's client-facing reads (signed in)", () => {

  test("cachedBlock is a query over the cache: a subscriber sees the refresh action's result", async () => {
    const t = makeBackend(gateway.url);
    const asUser = t.withIdentity(user);
    expect(await asUser.query(api.remote.cachedBlock, { urn: "urn:block:BETA.example:r1" })).toBeNull();
    gateway.reply = () => ({ status: 200, body: ok("r1") });
    const [answer] = await asUser.action(api.remote.refresh, { refs: ["urn:block:BETA.example:r1"] });
    expect(answer).toMatchObject({ status: "ok", source: "gateway" });
    expect(await asUser.query(api.remote.cachedBlock, { urn: "urn:block:BETA.example:r1" })).toMatchObject({
      block: { urn: urnOf("r1"), content: "from beta" },
    });
  });

  test("linksTo: what links here, across instances and spellings", async () => {
    const t = makeBackend(gateway.url);
    const asUser = t.withIdentity(user);
    const target = "urn:block:gamma.example:topic";
    await t.mutation(internal.blocks.create, { ...newBlock, id: "ours", references: ["URN:block:Gamma.example:topic", "theirs-local"] });
    const remote = { ...remoteBlock("r1"), references: [target] };
    await t.fetch("/api/v1/inbound", { method: "POST", headers: auth, body: JSON.stringify({ id: "n1", type: "remote_block.upsert", urn: remote.urn, block: remote }) });
    expect((await asUser.query(api.remote.linksTo, { ref: target })).sort()).toEqual(["urn:block:alpha.example:ours", urnOf("r1")]);
    // A local id resolves to our own URN, as a reference to it from another instance would.
    expect(await asUser.query(api.remote.linksTo, { ref: "theirs-local" })).toEqual(["urn:block:alpha.example:ours"]);
    await t.mutation(internal.blocks.edit, { id: "ours", references: [] });
    await t.fetch("/api/v1/inbound", { method: "POST", headers: auth, body: JSON.stringify({ id: "n2", type: "remote_block.delete", urn: remote.urn }) });
    expect(await asUser.query(api.remote.linksTo, { ref: target })).toEqual([]);
  });
});
