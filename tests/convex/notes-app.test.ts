// A second app, with its own existing schema (notes, not blocks), installs the component: its
// notes federate as blocks, and the contract's routes serve them.
import { register } from "@kbfed/convex-federation/test";
import { convexTest } from "convex-test";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { components, internal } from "../../examples/notes-app/convex/_generated/api";
import schema from "../../examples/notes-app/convex/schema";
import { auth, remoteBlock, TOKEN } from "./harness";

const modules = import.meta.glob("../../examples/notes-app/convex/**/*.ts");

function notesApp() {
  vi.stubEnv("BACKEND_TOKEN", TOKEN);
  vi.stubEnv("GATEWAY_URL", "http://127.0.0.1:9");
  vi.stubEnv("INSTANCE_DOMAIN", "notes.example");
  const t = convexTest({ schema, modules });
  register(t);
  return t;
}

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })); // reporter still
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const note = { heading: "Plan", body: "text", owner: "kim", sharing: "world" as const, seeAlso: [] };
const put = (slug: string, body: object) =>
  [`/notes/${slug}`, { method: "PUT", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify(body) }] as const;

test("each note write records its change as a block, team notes as private ones", async () => {
  const t = notesApp();
  await t.mutation(internal.notes.write, { slug: "plan", ...note, seeAlso: ["URN:block:Beta.example:r1"] });
  await t.mutation(internal.notes.write, { slug: "plan", ...note, sharing: "team" });
  await t.mutation(internal.notes.remove, { slug: "plan" });
  const events = await t.query(components.federation.outbox.events, {});
  expect(events.map((e) => [e.type, e.blockId])).toEqual([["created", "plan"], ["visibility_changed", "plan"], ["deleted", "plan"]]);
});

test("the contract's routes serve notes as blocks; only world-shared ones are federated", async () => {
  const t = notesApp();
  await t.mutation(internal.notes.write, { slug: "open", ...note, seeAlso: ["URN:block:Beta.example:r1"] });
  await t.mutation(internal.notes.write, { slug: "inner", ...note, sharing: "team" });
  const one = await (await t.fetch("/api/v1/blocks/open", { headers: auth })).json();
  expect(one).toMatchObject({ id: "open", title: "Plan", author: "kim", visibility: "public", references: ["urn:block:beta.example:r1"] });
  const page = await (await t.fetch("/api/v1/blocks?federated=1&limit=10", { headers: auth })).json();
  expect(page.items.map((b: { id: string }) => b.id)).toEqual(["open"]);
  const all = await (await t.fetch("/api/v1/blocks?limit=1", { headers: auth })).json();
  expect(all.next_cursor).not.toBeNull();
  expect((await t.fetch("/api/v1/blocks?cursor=nope", { headers: auth })).status).toBe(400);
});

test("a note the gateway would refuse is refused with the gateway's words", async () => {
  const t = notesApp();
  const [path, init] = put("long", { heading: "x".repeat(1001) });
  const res = await t.fetch(path, init);
  expect(res.status).toBe(422);
  expect((await res.json()).errors).toEqual([{ field: "title", message: "String should have at most 1000 characters" }]);
  expect(await t.query(internal.federation.getBlock, { id: "long" })).toBeNull();
});

test("inbound remote blocks land in the component's cache, not in the app's notes", async () => {
  const t = notesApp();
  const block = remoteBlock("r1");
  const res = await t.fetch("/api/v1/inbound", { method: "POST", headers: auth, body: JSON.stringify({ id: "n1", type: "remote_block.upsert", urn: block.urn, block }) });
  expect(res.status).toBe(204);
  expect(await t.query(components.federation.inbound.remoteBlock, { urn: block.urn })).toMatchObject({ id: "r1" });
  expect(await t.run(async (ctx) => await ctx.db.query("notes").take(1))).toEqual([]);
});

test("the notes app exposes no public function: federation added nothing a client can call", async () => {
  const exposed: string[] = [];
  for (const [path, load] of Object.entries(modules)) {
    if (path.includes("/_generated/") || /\/(http|crons|convex\.config)\.ts$/.test(path)) continue;
    for (const [name, fn] of Object.entries((await load()) as Record<string, { isPublic?: boolean }>)) {
      if (fn?.isPublic === true) exposed.push(`${path}:${name}`);
    }
  }
  expect(exposed).toEqual([]);
});
