// What a client holding only the deployment's URL (.convex.cloud) can do: call the app's
// functions registered public, by name, with no identity. A deployment answers any other name
// "Could not find public function"; convex-test runs internal functions too, so
// `callAsAnonymous` checks the registration first, as the deployment does, then runs the call
// with no identity. The component's functions (outbox, inbound, resolve, lib) are not the app's:
// no client can name them at all, only the app's own functions call them.
import { makeFunctionReference, type FunctionReference } from "convex/server";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { components, internal } from "../../convex/_generated/api";
import { GatewayStandIn, makeBackend, modules, newBlock, remoteBlock } from "./harness";

type Kind = "query" | "mutation" | "action";
type Registered = { isPublic?: boolean; isQuery?: boolean; isMutation?: boolean; isAction?: boolean };

async function registered(name: string): Promise<Registered | undefined> {
  const [file, exported] = name.split(":") as [string, string];
  const loader = modules[`../../convex/${file}.ts`];
  if (loader === undefined) return undefined;
  return ((await loader()) as Record<string, Registered | undefined>)[exported];
}

/** Every function name an anonymous client could reach: the public registrations in convex/. */
async function publicNames(): Promise<string[]> {
  const names: string[] = [];
  for (const [path, loader] of Object.entries(modules)) {
    const file = path.replace("../../convex/", "").replace(/\.ts$/, "");
    if (file.startsWith("_generated/") || ["http", "crons", "convex.config"].includes(file)) continue;
    for (const [exported, value] of Object.entries((await loader()) as Record<string, Registered>)) {
      if (value?.isPublic === true) names.push(`${file}:${exported}`);
    }
  }
  return names.sort();
}

async function callAsAnonymous(t: ReturnType<typeof makeBackend>, kind: Kind, name: string, args: object) {
  const fn = await registered(name);
  const isKind = { query: fn?.isQuery, mutation: fn?.isMutation, action: fn?.isAction }[kind];
  if (fn?.isPublic !== true || isKind !== true) {
    throw new Error(`Could not find public function for '${name}'`);
  }
  if (kind === "query") return await t.query(makeFunctionReference<"query">(name) as FunctionReference<"query">, args);
  if (kind === "mutation") return await t.mutation(makeFunctionReference<"mutation">(name), args);
  return await t.action(makeFunctionReference<"action">(name), args);
}

let gateway: GatewayStandIn;
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }); // keep the reporter still
  gateway = await new GatewayStandIn().start();
});
afterEach(async () => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  await gateway.stop();
});

/** A deployment holding one block of each kind an attacker wants: private, embargoed, remote. */
async function populated() {
  const t = makeBackend(gateway.url);
  await t.mutation(internal.blocks.create, { ...newBlock, id: "secret", visibility: "private", content: "private" });
  const later = Date.now() + 3_600_000;
  await t.mutation(internal.blocks.create, { ...newBlock, id: "soon", visibility: "embargoed", embargoUntil: later });
  const block = remoteBlock("r1");
  await t.mutation(components.federation.inbound.apply, { notes: [{ id: "n1", type: "remote_block.upsert", urn: block.urn, block, follow: null }] });
  return t;
}

async function snapshot(t: ReturnType<typeof makeBackend>) {
  const app = await t.run(async (ctx) => ({
    blocks: await ctx.db.query("blocks").take(100),
    retired: await ctx.db.query("retiredIds").take(100),
  }));
  return {
    ...app,
    outbox: await t.query(components.federation.outbox.events, {}),
    remote: await t.query(components.federation.inbound.remoteBlocks, {}),
    follows: await t.query(components.federation.inbound.follows, {}),
  };
}

const REFUSED = /Could not find public function/;

// One test per function that was public before issue 27: each is now refused outright (the
// app's are internal; inbound, outbox and resolve moved into the component), and the data (and
// the gateway) are untouched.
const formerlyPublic: [Kind, string, object][] = [
  ["query", "blocks:get", { id: "secret" }],
  ["query", "blocks:page", { federated: false, cursor: null, limit: 10 }],
  ["mutation", "blocks:create", { ...newBlock, id: "evil" }],
  ["mutation", "blocks:edit", { id: "secret", visibility: "public" }],
  ["mutation", "blocks:remove", { id: "secret" }],
  ["query", "inbound:remoteBlocks", {}],
  ["query", "inbound:remoteBlock", { urn: "urn:block:beta.example:r1" }],
  ["query", "inbound:follows", {}],
  ["query", "outbox:pendingCount", {}],
  ["query", "outbox:events", {}],
  ["action", "resolve:getBlock", { ref: "secret" }],
  ["action", "resolve:getBlocks", { refs: ["secret", "urn:block:beta.example:x"] }],
];

describe("an anonymous client", () => {
  for (const [kind, name, args] of formerlyPublic) {
    test(`is refused ${name}, and nothing changes`, async () => {
      const t = await populated();
      const before = await snapshot(t);
      await expect(callAsAnonymous(t, kind, name, args)).rejects.toThrow(REFUSED);
      expect(await snapshot(t)).toEqual(before);
      expect(gateway.requests).toEqual([]);
    });
  }

  test("reaches only the public-data reads and the signed-in reads of remote blocks", async () => {
    // A new public function must be added here on purpose, with a test of what it reveals.
    expect(await publicNames()).toEqual([
      "blocks:publicBlock",
      "blocks:publicBlocks",
      "remote:cachedBlock",
      "remote:linksTo",
      "remote:refresh",
    ]);
  });

  const signedInOnly: [Kind, string, object][] = [
    ["query", "remote:cachedBlock", { urn: "urn:block:beta.example:r1" }],
    ["query", "remote:linksTo", { ref: "urn:block:beta.example:r1" }],
    ["action", "remote:refresh", { refs: ["urn:block:beta.example:r1", "urn:block:beta.example:x"] }],
  ];
  for (const [kind, name, args] of signedInOnly) {
    test(`is asked to sign in by ${name}, and nothing changes`, async () => {
      const t = await populated();
      const before = await snapshot(t);
      await expect(callAsAnonymous(t, kind, name, args)).rejects.toThrow(/sign in/);
      expect(await snapshot(t)).toEqual(before);
      expect(gateway.requests).toEqual([]);
    });
  }

  test("sees no private or still embargoed block through them", async () => {
    const t = await populated();
    await t.mutation(internal.blocks.create, { ...newBlock, id: "open" });
    for (const id of ["secret", "soon"]) {
      expect(await callAsAnonymous(t, "query", "blocks:publicBlock", { id })).toBeNull();
    }
    const listed = (await callAsAnonymous(t, "query", "blocks:publicBlocks", { cursor: null, limit: 10 })) as {
      items: { id: string }[];
    };
    expect(listed.items.map((b) => b.id)).toEqual(["open"]);
  });
});
