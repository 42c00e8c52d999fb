// The example app's block writes: each change of a block records one event through the
// component, in the same transaction; an edit that changes nothing records none.
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { components, internal } from "../../convex/_generated/api";
import { recordChange } from "@kbfed/convex-federation";
import { blockOf as blockJsonOf, makeBackend, newBlock } from "./harness";

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })); // reporter still
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

test("each change records one event, in order; an edit that changes nothing records none", async () => {
  const t = makeBackend();
  await t.mutation(internal.blocks.create, { ...newBlock, id: "b1" });
  await t.mutation(internal.blocks.edit, { id: "b1", content: "hello" }); // unchanged
  await t.mutation(internal.blocks.edit, { id: "b1", content: "edited" });
  await t.mutation(internal.blocks.edit, { id: "b1", visibility: "private" });
  await t.mutation(internal.blocks.remove, { id: "b1" });
  const events = await t.query(components.federation.outbox.events, {});
  expect(events.map((e) => e.type)).toEqual(["created", "updated", "visibility_changed", "deleted"]);
});

test("a change the component refuses undoes the app's own write: one transaction", async () => {
  const t = makeBackend();
  const bad = { ...blockJsonOf("b1"), title: "x".repeat(1001) };
  const attempt = t.run(async (ctx) => {
    await ctx.db.insert("retiredIds", { blockId: "written-first" });
    await recordChange(ctx, components.federation, { type: "created", blockId: "b1", block: bad });
  });
  await expect(attempt).rejects.toThrow(/invalid_block/);
  expect(await t.run(async (ctx) => await ctx.db.query("retiredIds").take(1))).toEqual([]);
  expect(await t.query(components.federation.outbox.events, {})).toEqual([]);
});
