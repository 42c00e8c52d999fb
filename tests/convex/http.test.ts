// The gateway -> backend HTTP actions, called the way the gateway calls them.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, components, internal } from "../../convex/_generated/api";
import { auth, makeBackend, newBlock, remoteBlock, withJson } from "./harness";

// Fake timers keep the reporter (scheduled on every change) from running: not under test here.
beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }));
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const post = (body: unknown) => withJson("POST", body);

describe("bearer token", () => {
  test("a missing or wrong token is a 401 problem with WWW-Authenticate", async () => {
    const t = makeBackend();
    const variants: Record<string, string>[] = [{}, { Authorization: "Bearer nope" }, { Authorization: "test-token" }];
    for (const headers of variants) {
      const res = await t.fetch("/api/v1/blocks", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm=/);
      expect(await res.json()).toMatchObject({ status: 401, title: "Unauthorized" });
    }
  });

  test("an empty configured token refuses everything", async () => {
    const t = makeBackend();
    vi.stubEnv("BACKEND_TOKEN", "");
    const res = await t.fetch("/api/v1/blocks", { headers: { Authorization: "Bearer " } });
    expect(res.status).toBe(401);
  });
});

describe("GET /api/v1/blocks/{id}", () => {
  test("serves a block of any visibility, the id percent-encoded as one segment", async () => {
    const t = makeBackend();
    await t.mutation(internal.blocks.create, { ...newBlock, id: "a/b c", visibility: "private" });
    const res = await t.fetch("/api/v1/blocks/a%2Fb%20c", { headers: auth });
    expect(res.status).toBe(200);
    const block = await res.json();
    expect(block).toMatchObject({ id: "a/b c", visibility: "private", embargo_until: null });
    expect(block.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test("an unknown or deleted id is a 404 problem", async () => {
    const t = makeBackend();
    await t.mutation(internal.blocks.create, { ...newBlock, id: "gone" });
    await t.mutation(internal.blocks.remove, { id: "gone" });
    for (const path of ["/api/v1/blocks/gone", "/api/v1/blocks/never", "/api/v1/nothing"]) {
      const res = await t.fetch(path, { headers: auth });
      expect(res.status).toBe(404);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });
});

describe("GET /api/v1/blocks (paging)", () => {
  async function pageAll(t: ReturnType<typeof makeBackend>, query: string, during?: () => Promise<void>) {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const res = await t.fetch(`/api/v1/blocks?${query}${suffix}`, { headers: auth });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
      ids.push(...page.items.map((b) => b.id));
      cursor = page.next_cursor;
      if (during) await during();
    } while (cursor !== null);
    return ids;
  }

  test("federated=1 lists public and embargoed blocks, never private ones, in creation order", async () => {
    const t = makeBackend();
    const vis = ["public", "private", "embargoed", "public", "private"] as const;
    for (const [i, visibility] of vis.entries()) {
      const embargoUntil = visibility === "embargoed" ? Date.now() + 3_600_000 : null;
      await t.mutation(internal.blocks.create, { ...newBlock, id: `b${i}`, visibility, embargoUntil });
    }
    expect(await pageAll(t, "federated=1&limit=1")).toEqual(["b0", "b2", "b3"]);
    expect(await pageAll(t, "limit=2")).toEqual(["b0", "b1", "b2", "b3", "b4"]);
  });

  test("a block created while paging appears once, later; a deleted one disappears", async () => {
    const t = makeBackend();
    for (const id of ["a", "b", "c"]) await t.mutation(internal.blocks.create, { ...newBlock, id });
    let step = 0;
    const ids = await pageAll(t, "federated=1&limit=1", async () => {
      step += 1;
      if (step === 1) await t.mutation(internal.blocks.create, { ...newBlock, id: "late" });
      if (step === 1) await t.mutation(internal.blocks.remove, { id: "c" });
    });
    expect(ids).toEqual(["a", "b", "late"]);
  });

  test("a bad limit or cursor is a 400 problem", async () => {
    const t = makeBackend();
    await t.mutation(internal.blocks.create, { ...newBlock, id: "x" });
    for (const query of ["limit=0", "limit=201", "limit=abc", "limit=-1", "cursor=not-a-cursor"]) {
      const res = await t.fetch(`/api/v1/blocks?${query}`, { headers: auth });
      expect(res.status, query).toBe(400);
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });
});

describe("POST /api/v1/inbound", () => {
  const upsert = (id: string, block = remoteBlock("r1")) => ({
    id,
    type: "remote_block.upsert",
    urn: block.urn,
    block,
  });

  test("upsert, delete and follow.changed are stored; each answers 204", async () => {
    const t = makeBackend();
    expect((await t.fetch("/api/v1/inbound", post(upsert("n1")))).status).toBe(204);
    expect(await t.query(components.federation.inbound.remoteBlocks, {})).toMatchObject([{ urn: "urn:block:beta.example:r1" }]);
    const del = { id: "n2", type: "remote_block.delete", urn: "urn:block:beta.example:r1" };
    expect((await t.fetch("/api/v1/inbound", post(del))).status).toBe(204);
    expect(await t.query(components.federation.inbound.remoteBlocks, {})).toEqual([]);
    const follow = { direction: "follower", actor: "https://beta.example/actor", domain: "beta.example" };
    for (const [id, state] of [["n3", "pending"], ["n4", "accepted"]]) {
      const note = { id, type: "follow.changed", follow: { ...follow, state } };
      expect((await t.fetch("/api/v1/inbound", post(note))).status).toBe(204);
    }
    expect(await t.query(components.federation.inbound.follows, {})).toEqual([{ ...follow, state: "accepted" }]);
    // The same actor followed by us too (mutual follows): a second record, the first kept.
    const ours = { id: "n5", type: "follow.changed", follow: { ...follow, direction: "following", state: "pending" } };
    expect((await t.fetch("/api/v1/inbound", post(ours))).status).toBe(204);
    expect(await t.query(components.federation.inbound.follows, {})).toEqual([
      { ...follow, state: "accepted" },
      { ...follow, direction: "following", state: "pending" },
    ]);
  });

  test("a repeated notification id is acknowledged and ignored", async () => {
    const t = makeBackend();
    await t.fetch("/api/v1/inbound", post(upsert("same")));
    const changed = { ...remoteBlock("r1", "2026-01-01T00:00:00Z"), content: "changed" };
    expect((await t.fetch("/api/v1/inbound", post(upsert("same", changed)))).status).toBe(204);
    expect(await t.query(components.federation.inbound.remoteBlocks, {})).toMatchObject([{ content: "from beta" }]);
  });

  test("an older version arriving late does not replace a newer one", async () => {
    const t = makeBackend();
    const newer = { ...remoteBlock("r1", "2026-01-01T00:00:00Z"), content: "newer" };
    await t.fetch("/api/v1/inbound", post(upsert("n-new", newer)));
    await t.fetch("/api/v1/inbound", post(upsert("n-old", remoteBlock("r1"))));
    expect(await t.query(components.federation.inbound.remoteBlocks, {})).toMatchObject([{ content: "newer" }]);
  });

  test("bad bodies: 400 for non-JSON, 422 naming the fields, 413 over 1 MiB; nothing stored", async () => {
    const t = makeBackend();
    expect((await t.fetch("/api/v1/inbound", post("{not json"))).status).toBe(400);
    const wrongUrn = { ...upsert("n1"), urn: "urn:block:beta.example:other" };
    const noTime = { ...upsert("n2"), block: { ...remoteBlock("r1"), updated_at: "2025-06-15T15:07:40" } };
    for (const body of [{ type: "remote_block.upsert" }, wrongUrn, noTime, { id: "n3", type: "nope" }]) {
      const res = await t.fetch("/api/v1/inbound", post(body));
      expect(res.status).toBe(422);
      const problem = await res.json();
      expect(problem.errors.length).toBeGreaterThan(0);
      expect(problem.detail).toBe(problem.errors.map((e: { field: string; message: string }) => `${e.field}: ${e.message}`).join("; "));
    }
    const huge = JSON.stringify({ ...upsert("n4"), pad: "x".repeat(1024 * 1024) });
    expect((await t.fetch("/api/v1/inbound", post(huge))).status).toBe(413);
    expect(await t.query(components.federation.inbound.remoteBlocks, {})).toEqual([]);
  });
});

describe("management API", () => {
  test("create (201 + Location), 409 on a taken id, edit, delete", async () => {
    const t = makeBackend();
    const body = { id: "n1", title: "Hello", visibility: "embargoed", embargo_until: "2030-01-01T00:00:00+02:00" };
    const res = await t.fetch("/api/v1/blocks", post(body));
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe("/api/v1/blocks/n1");
    expect(await res.json()).toMatchObject({ id: "n1", kind: "note", embargo_until: "2029-12-31T22:00:00Z" });
    expect((await t.fetch("/api/v1/blocks", post(body))).status).toBe(409);
    const patch = { ...post({ content: "edited" }), method: "PATCH" };
    expect(await (await t.fetch("/api/v1/blocks/n1", patch)).json()).toMatchObject({ content: "edited" });
    expect((await t.fetch("/api/v1/blocks/n1", { method: "DELETE", headers: auth })).status).toBe(204);
    expect((await t.fetch("/api/v1/blocks", post(body))).status).toBe(409); // ids are never reused
  });

  test("unknown fields and an embargo without a date are 422", async () => {
    const t = makeBackend();
    for (const body of [{ title: "x", colour: "red" }, { title: "x", visibility: "embargoed" }, {}]) {
      expect((await t.fetch("/api/v1/blocks", post(body))).status).toBe(422);
    }
    expect(await t.query(internal.blocks.page, { federated: false, cursor: null, limit: 10 })).toMatchObject({ items: [] });
  });
});

describe("reads of what the gateway handed over", () => {
  test("GET /api/v1/remote-blocks/{urn} (one percent-encoded segment), /follows, /resolve needs a ref", async () => {
    const t = makeBackend();
    const block = remoteBlock("r 1");
    const note = { id: "n1", type: "remote_block.upsert", urn: block.urn, block };
    await t.fetch("/api/v1/inbound", post(note));
    const one = await t.fetch(`/api/v1/remote-blocks/${encodeURIComponent(block.urn)}`, { headers: auth });
    expect(await one.json()).toMatchObject({ urn: block.urn, origin: "beta.example" });
    const none = await t.fetch(`/api/v1/remote-blocks/${encodeURIComponent("urn:block:x:y")}`, { headers: auth });
    expect(none.status).toBe(404);
    expect(await (await t.fetch("/api/v1/follows", { headers: auth })).json()).toEqual({ items: [] });
    expect((await t.fetch("/api/v1/resolve", { headers: auth })).status).toBe(400);
    const local = await t.fetch("/api/v1/resolve?ref=missing", { headers: auth });
    expect(await local.json()).toMatchObject({ ref: "missing", status: "not_found" });
  });
});
