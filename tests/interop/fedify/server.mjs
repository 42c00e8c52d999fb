// A real Fedify server, for tests/interop/test_fedify_server.py: createFederation with a KvStore
// and an in-process queue, one actor set up as Fedify's manual shows (RSA + Ed25519 key pairs,
// inbox listeners, a followers collection, WebFinger), served over HTTP on 127.0.0.1.
//
//   node server.mjs --port 8123 [--keys FILE] [--challenge] [--challenge-nonce]
//                   [--first-knock cavage]
//
//   --keys FILE        keep the actor's key pairs there as JWK (made on first use)
//   --challenge        InboxChallengePolicy on: a 401 from our inbox carries Accept-Signature
//   --challenge-nonce  ... and asks for a one-time nonce (RFC 9421 §5)
//   --first-knock cavage   sign the first request to an unknown server with draft-cavage
//                          (Fedify's default is RFC 9421)
//
// The tests drive it and read what happened through JSON under /_test/ (control.mjs); what went
// over the wire both ways is recorded by wire.mjs. Nothing here skips Fedify's verification:
// its inbox listeners see only what Fedify verified.
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { createFederation, InProcessMessageQueue, MemoryKvStore } from "@fedify/fedify";
import { setUpActor } from "./actor.mjs";
import { handleControl } from "./control.mjs";
import { recordInbound, recordOutboundFetches, WireLog } from "./wire.mjs";

const { values: args } = parseArgs({
  options: {
    port: { type: "string" },
    keys: { type: "string" },
    challenge: { type: "boolean", default: false },
    "challenge-nonce": { type: "boolean", default: false },
    "first-knock": { type: "string", default: "rfc9421" },
  },
});
const port = Number(args.port);
if (!Number.isInteger(port) || port <= 0) throw new Error("--port N is required");
const base = `http://127.0.0.1:${port}`;
const firstKnock = args["first-knock"] === "cavage"
  ? "draft-cavage-http-signatures-12"
  : "rfc9421";

const wire = new WireLog();
recordOutboundFetches(wire); // before Fedify sends anything

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  // Our gateways listen on http://127.0.0.1: Fedify refuses private addresses by default.
  allowPrivateAddress: true,
  firstKnock,
  inboxChallengePolicy: args.challenge || args["challenge-nonce"]
    ? { enabled: true, requestNonce: args["challenge-nonce"] }
    : undefined,
  onOutboxError: (error, activity) => wire.outboxError(error, activity),
});

const state = {
  base,
  identifier: "fedi",
  followers: new Map(), // actor id -> { id, inboxId, sharedInboxId }
  following: new Map(), // actor id -> { state: "pending" | "accepted" | "rejected", followId }
  received: [], // activities Fedify verified and handed to its inbox listeners
  outbox: [], // activities this actor sent with sendActivity (its outbox collection)
  wire,
};
await setUpActor(federation, state, args.keys);

serve({
  hostname: "127.0.0.1",
  port,
  fetch: async (request) => {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/_test/")) {
      return handleControl(request, url, federation, state);
    }
    if (request.method === "POST") {
      return recordInbound(request, federation, state);
    }
    return federation.fetch(request, { contextData: undefined });
  },
});
process.stdout.write(`listening on ${base}\n`);
