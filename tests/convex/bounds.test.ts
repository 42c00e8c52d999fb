// The gateway's bounds, held at the door with its limits and its words (the expected messages
// are what federation/activities/block.py answers for the same input), and the page's byte cap.
import { ConvexError } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { components, internal } from "../../convex/_generated/api";
import { PAGE_MAX_BYTES } from "@kbfed/convex-federation";
import { auth, makeBackend, newBlock, withJson } from "./harness";

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })); // reporter still
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function refusal(res: Response) {
  expect(res.status).toBe(422);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = (await res.json()) as { title: string; detail: string; errors: { field: string; message: string }[] };
  expect(problem.title).toBe("Invalid request");
  expect(problem.detail).toBe(problem.errors.map((e) => `${e.field}: ${e.message}`).join("; "));
  return problem.errors;
}

describe("a block the gateway would refuse is refused when written", () => {
  const cases: [string, object, { field: string; message: string }][] = [
    ["a 5,000-character title", { title: "x".repeat(5000) }, { field: "title", message: "String should have at most 1000 characters" }],
    ["a 1,001-character kind", { title: "t", kind: "k".repeat(1001) }, { field: "kind", message: "String should have at most 1000 characters" }],
    ["a 1,001-character author", { title: "t", author: "a".repeat(1001) }, { field: "author", message: "String should have at most 1000 characters" }],
    ["content over 256 KiB", { title: "t", content: "é".repeat(128 * 1024 + 1) }, { field: "content", message: "Value error, content larger than 262144 bytes" }],
    ["1,001 references", { title: "t", references: Array.from({ length: 1001 }, (_, i) => `r${i}`) }, { field: "references", message: "List should have at most 1000 items after validation, not 1001" }],
    ["a malformed URN", { title: "t", references: ["urn:nonsense"] }, { field: "references", message: "Value error, bad reference: not a block URN (expected 'urn:block:...'): 'urn:nonsense'" }],
    ["a URN with a bad authority", { title: "t", references: ["urn:block:bad_host:x"] }, { field: "references", message: "Value error, bad reference: bad authority: bad host 'bad_host': not a DNS host name (letters, digits and inner hyphens, labels of 1 to 63 characters)" }],
    ["a 201-character id", { title: "t", id: "i".repeat(201) }, { field: "id", message: "String should have at most 200 characters" }],
  ];
  for (const [what, body, error] of cases) {
    test(`POST: ${what} is a 422 naming the field; nothing is stored or reported`, async () => {
      const t = makeBackend();
      expect(await refusal(await t.fetch("/api/v1/blocks", withJson("POST", body)))).toEqual([error]);
      expect(await t.run(async (ctx) => await ctx.db.query("blocks").take(1))).toEqual([]);
      expect(await t.query(components.federation.outbox.events, {})).toEqual([]);
    });
  }

  test("characters are code points: an astral character counts once, as the gateway counts it", async () => {
    const t = makeBackend();
    const res = await t.fetch("/api/v1/blocks", withJson("POST", { id: "😀".repeat(80), title: "😀".repeat(1000) }));
    expect(res.status).toBe(201);
  });

  test("PATCH checks the block after the change", async () => {
    const t = makeBackend();
    await t.mutation(internal.blocks.create, { ...newBlock, id: "b1" });
    const errors = await refusal(await t.fetch("/api/v1/blocks/b1", withJson("PATCH", { references: ["urn:block:x"] })));
    expect(errors).toEqual([{ field: "references", message: "Value error, bad reference: block URN without a local id: 'urn:block:x'" }]);
    expect(await t.query(internal.blocks.get, { id: "b1" })).toMatchObject({ references: [] });
  });

  test("the app's own mutations are held to the same bounds (a ConvexError naming the fields)", async () => {
    const t = makeBackend();
    const refused = await t.mutation(internal.blocks.create, { ...newBlock, title: "x".repeat(1001), references: ["urn:x"] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConvexError);
    expect((refused as ConvexError<{ errors: { field: string }[] }>).data.errors.map((e) => e.field)).toEqual(["title", "references"]);
  });

  test("references are stored in their normal form, as the gateway reads them", async () => {
    const t = makeBackend();
    const refs = ["URN:Block:BETA.example:r%7e1", "local-id", "urn:block:[0:0:0:0:0:0:0:1]:8443:a%2fb"];
    const res = await t.fetch("/api/v1/blocks", withJson("POST", { id: "b1", title: "t", references: refs }));
    expect(await res.json()).toMatchObject({ references: ["urn:block:beta.example:r~1", "local-id", "urn:block:[::1]:8443:a%2Fb"] });
  });
});

describe("GET /api/v1/blocks under Convex's transaction limits", () => {
  test("pages of 256 KiB blocks stop at the byte cap; paging returns every block once", { timeout: 60_000 }, async () => {
    const t = makeBackend(undefined, true);
    const big = "x".repeat(256 * 1024);
    const count = 70; // 17.5 MiB of content: more than one transaction may read
    for (let i = 0; i < count; i++) {
      await t.run(async (ctx) => {
        await ctx.db.insert("blocks", {
          blockId: `b${String(i).padStart(2, "0")}`, kind: "note", title: "big", content: big, author: "ann",
          visibility: "public", embargoUntil: null, references: [], url: null, createdAt: 0, updatedAt: 0,
          federated: true, embargoReleased: false, listed: true,
        }); // fmt: skip
      });
    }
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const suffix: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const res = await t.fetch(`/api/v1/blocks?federated=1&limit=200${suffix}`, { headers: auth });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
      expect(page.items.length * big.length).toBeLessThanOrEqual(PAGE_MAX_BYTES + big.length);
      ids.push(...page.items.map((b) => b.id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null);
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => `b${String(i).padStart(2, "0")}`));
    expect(pages).toBeGreaterThan(2);
  });

  test("only a malformed cursor is a 400; a well-formed one past the end is an empty last page", async () => {
    const t = makeBackend();
    await t.mutation(internal.blocks.create, { ...newBlock, id: "a" });
    for (const cursor of ["nope", "[1,2]", '[true,"x","y"]', "{}"]) {
      const res = await t.fetch(`/api/v1/blocks?federated=1&cursor=${encodeURIComponent(cursor)}`, { headers: auth });
      expect(res.status, cursor).toBe(400);
      expect(await res.json()).toMatchObject({ title: "Invalid cursor" });
    }
    const end = encodeURIComponent(JSON.stringify([true, Date.now() + 1e9, "zzz"]));
    const res = await t.fetch(`/api/v1/blocks?federated=1&cursor=${end}`, { headers: auth });
    expect(await res.json()).toEqual({ items: [], next_cursor: null });
  });
});
