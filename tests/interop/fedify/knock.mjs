// POST /_test/knock {"to": actor url, "first": "none" | "stale"}: Fedify knocking on an inbox
// with a signature the receiver cannot take, then answering its Accept-Signature (RFC 9421 §5).
//
// A Fedify server's sendActivity always signs, with the current time, so neither knock happens
// through it; and the function that answers a challenge inside it (doubleKnock) is not exported.
// This takes the same steps with Fedify's exported functions: the first knock carries no
// signature ("none") or one made two hours ago ("stale", outside every receiver's clock window),
// then parseAcceptSignature + validateAcceptSignature read the receiver's answer,
// fulfillAcceptSignature turns its first entry into RFC 9421 options for the actor's RSA key,
// and signRequest signs the retry with them.
import {
  fulfillAcceptSignature,
  parseAcceptSignature,
  signRequest,
  validateAcceptSignature,
} from "@fedify/fedify";
import { Create, Note, PUBLIC_COLLECTION } from "@fedify/vocab";
import { Temporal } from "@js-temporal/polyfill";

const RSA_ALGORITHM = "rsa-v1_5-sha256"; // what Fedify signs HTTP with (RSA keys only)

export async function knock(ctx, state, target, first) {
  const [rsa] = state.keyPairs;
  const keyId = (await ctx.getActorKeyPairs(state.identifier))[0].keyId;
  const body = JSON.stringify(await plainCreate(ctx, state));
  const request = () =>
    new Request(target.inboxId, {
      method: "POST",
      headers: { "Content-Type": "application/activity+json" },
      body,
    });
  const bytes = new TextEncoder().encode(body).buffer;
  const firstTry = first === "stale"
    ? await signRequest(request(), rsa.privateKey, keyId, {
      spec: "rfc9421",
      body: bytes,
      currentTime: Temporal.Now.instant().subtract({ hours: 2 }),
    })
    : request();
  const knocks = [await post(firstTry)];
  const asked = knocks[0].acceptSignature;
  if (knocks[0].status !== 401 || asked == null) return { knocks };
  const entries = validateAcceptSignature(parseAcceptSignature(asked));
  const rfc9421 = entries.length === 0
    ? null
    : fulfillAcceptSignature(entries[0], keyId.href, RSA_ALGORITHM);
  if (rfc9421 == null) return { knocks, unmet: asked };
  const retry = await signRequest(request(), rsa.privateKey, keyId, {
    spec: "rfc9421",
    body: bytes,
    rfc9421,
  });
  knocks.push(await post(retry));
  return { knocks };
}

async function post(request) {
  const signatureInput = request.headers.get("signature-input");
  const response = await fetch(request);
  return {
    status: response.status,
    signatureInput,
    acceptSignature: response.headers.get("accept-signature"),
    answer: await response.text(),
  };
}

// A Create(Note) as Fedify's vocabulary writes it, without the proof and LD signature
// sendActivity would add: the knocks are about the HTTP signature alone.
async function plainCreate(ctx, state) {
  const me = ctx.getActorUri(state.identifier);
  const id = crypto.randomUUID();
  const create = new Create({
    id: new URL(`${state.base}/activities/${id}`),
    actor: me,
    to: PUBLIC_COLLECTION,
    object: new Note({
      id: new URL(`${state.base}/notes/${id}`),
      attribution: me,
      content: "Knocking",
      to: PUBLIC_COLLECTION,
    }),
  });
  return await create.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
}
