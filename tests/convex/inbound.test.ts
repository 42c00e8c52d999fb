// Inbound batches as the reference backend takes them.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { components } from "../../convex/_generated/api";
import { makeBackend, remoteBlock, withJson } from "./harness";

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }));
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const post = (body: unknown) => withJson("POST", body);
const upsert = (id: string, block = remoteBlock(id)) => ({ id: `n-${id}`, type: "remote_block.upsert", urn: block.urn, block });
const stored = async (t: ReturnType<typeof makeBackend>) =>
  (await t.query(components.federation.inbound.remoteBlocks, {})).map((b) => b.id).sort();

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
    expect(await t.query(components.federation.inbound.remoteBlock, { urn: block.urn })).toMatchObject({ references: ["urn:block:gamma.example:x"] });
    const shouting = { ...remoteBlock("r3"), urn: "urn:block:BETA.example:r3" };
    const refused = await t.fetch("/api/v1/inbound", post(upsert("r3", shouting)));
    expect((await refused.json()).errors).toEqual([{ field: "block.urn", message: "Value error, the URN is not in its normal form" }]);
    const local = { ...remoteBlock("r2"), references: ["local-id"] };
    const res = await t.fetch("/api/v1/inbound", post(upsert("r2", local)));
    expect((await res.json()).errors).toEqual([{ field: "block.references", message: "Value error, a remote block's references must all be URNs" }]);
  });
});
