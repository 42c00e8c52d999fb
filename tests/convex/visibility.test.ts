// What the world may see: private never; embargoed only once the scheduled release ran.
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { auth, makeBackend, newBlock } from "./harness";

const HOUR = 3_600_000;
beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] }));
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function listed(t: ReturnType<typeof makeBackend>) {
  const page = await t.query(api.blocks.publicBlocks, { cursor: null, limit: 100 });
  return page.items.map((b) => b.id);
}

test("a private block is never on the public list, whatever happens", async () => {
  const t = makeBackend();
  await t.mutation(internal.blocks.create, { ...newBlock, id: "pub" });
  await t.mutation(internal.blocks.create, { ...newBlock, id: "priv", visibility: "private" });
  vi.advanceTimersByTime(48 * HOUR);
  expect(await listed(t)).toEqual(["pub"]);
});

test("an embargoed block appears on the public list at embargoUntil, not before", async () => {
  const t = makeBackend();
  const until = Date.now() + HOUR;
  await t.mutation(internal.blocks.create, { ...newBlock, id: "emb", visibility: "embargoed", embargoUntil: until });
  vi.advanceTimersByTime(HOUR - 1000);
  await t.finishInProgressScheduledFunctions();
  expect(await listed(t)).toEqual([]);
  vi.advanceTimersByTime(1000);
  await t.finishInProgressScheduledFunctions();
  expect(await listed(t)).toEqual(["emb"]);
  // The gateway always gets the block with its date and enforces the embargo itself.
  const res = await t.fetch("/api/v1/blocks/emb", { headers: auth });
  expect(await res.json()).toMatchObject({ visibility: "embargoed", embargo_until: new Date(until).toISOString() });
});

test("moving the embargo later cancels the earlier release", async () => {
  const t = makeBackend();
  const first = Date.now() + HOUR;
  await t.mutation(internal.blocks.create, { ...newBlock, id: "emb", visibility: "embargoed", embargoUntil: first });
  await t.mutation(internal.blocks.edit, { id: "emb", embargoUntil: first + 2 * HOUR });
  vi.advanceTimersByTime(HOUR + 1000);
  await t.finishInProgressScheduledFunctions();
  expect(await listed(t)).toEqual([]);
  vi.advanceTimersByTime(2 * HOUR);
  await t.finishInProgressScheduledFunctions();
  expect(await listed(t)).toEqual(["emb"]);
});

test("an embargo already past on creation is released at once", async () => {
  const t = makeBackend();
  await t.mutation(internal.blocks.create, { ...newBlock, id: "old", visibility: "embargoed", embargoUntil: Date.now() - HOUR });
  expect(await listed(t)).toEqual(["old"]);
});

test("the human page: 404 for a private block and an embargoed one before its time, escaped HTML after", async () => {
  const t = makeBackend();
  const until = Date.now() + HOUR;
  await t.mutation(internal.blocks.create, { ...newBlock, id: "priv", visibility: "private" });
  await t.mutation(internal.blocks.create, { ...newBlock, id: "emb", title: "<b>x</b>", visibility: "embargoed", embargoUntil: until });
  for (const id of ["priv", "emb", "missing"]) expect((await t.fetch(`/blocks/${id}`)).status).toBe(404);
  vi.advanceTimersByTime(HOUR);
  await t.finishInProgressScheduledFunctions();
  const page = await t.fetch("/blocks/emb");
  expect(page.status).toBe(200);
  expect(page.headers.get("Content-Type")).toContain("text/html");
  const html = await page.text();
  expect(html).toContain("&lt;b&gt;x&lt;/b&gt;");
  expect(html).not.toContain("<b>x</b>");
  expect((await t.fetch("/blocks/priv")).status).toBe(404);
});
