// The tests' handle on the Fedify server: JSON over HTTP under /_test/.
//
//   GET  /_test/state     what was received (verified by Fedify), what crossed the wire both
//                         ways (wire.mjs), followers, follows sent and their answers
//   POST /_test/follow    {"actor": url}  Follow that actor (Fedify's sendActivity)
//   POST /_test/unfollow  {"actor": url}  Undo that follow
//   POST /_test/send      {"to": actor url, "type": "Create"|"Update"|"Delete",
//                          "shape": "note"|"block", "id": local id, "content": ..., ...}
//   POST /_test/knock     {"to": actor url, "first": "none"|"stale"}  (knock.mjs)
//
// Everything Fedify's vocabulary can express is sent with ctx.sendActivity and its defaults
// (RFC 9421 first knock, cavage fallback, Accept-Signature, a proof by the Ed25519 key, then a
// Linked Data signature by the RSA key). A block's own terms (urn, blockKind, ...) are not in
// that vocabulary, and Fedify's JSON-LD serialisation drops every property it does not know
// (its manual: "Extending the vocabulary"); so a block-shaped Create or Update is built as JSON
// and signed with Fedify's own lower-level functions, as a Fedify app carrying extension terms
// must: signJsonLd (the LD signature covers every term) and signRequest (RFC 9421). Fedify has
// no function that makes a proof over plain JSON, so that body carries no proof.
import { signJsonLd, signRequest } from "@fedify/fedify";
import { knock } from "./knock.mjs";
import {
  Create,
  Delete,
  Follow,
  Note,
  PUBLIC_COLLECTION,
  Tombstone,
  Undo,
  Update,
} from "@fedify/vocab";

const KINDS = { Create, Update, Delete };

export async function handleControl(request, url, federation, state) {
  try {
    const ctx = federation.createContext(new URL(state.base), undefined);
    const input = request.method === "POST" ? await request.json() : {};
    const result = await route(url.pathname, input, ctx, state);
    if (result === undefined) return json({ error: `no such control: ${url.pathname}` }, 404);
    return json(result, 200);
  } catch (error) {
    return json({ error: String(error?.stack ?? error) }, 500);
  }
}

function route(path, input, ctx, state) {
  switch (path) {
    case "/_test/state":
      return describe(ctx, state);
    case "/_test/follow":
      return follow(ctx, state, input.actor);
    case "/_test/unfollow":
      return unfollow(ctx, state, input.actor);
    case "/_test/send":
      return send(ctx, state, input);
    case "/_test/knock":
      return lookUpActor(ctx, input.to).then((target) => knock(ctx, state, target, input.first));
  }
  return undefined;
}

function json(value, status) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

function describe(ctx, state) {
  return {
    actor: ctx.getActorUri(state.identifier).href,
    inbox: ctx.getInboxUri(state.identifier).href,
    sharedInbox: ctx.getInboxUri().href,
    followers: [...state.followers.keys()],
    following: Object.fromEntries(state.following),
    received: state.received,
    inbound: state.wire.inbound,
    outbound: state.wire.outbound,
    outboxErrors: state.wire.errors,
  };
}

async function lookUpActor(ctx, actorUrl) {
  const actor = await ctx.lookupObject(actorUrl);
  if (actor == null || actor.id == null) throw new Error(`cannot look up ${actorUrl}`);
  return actor;
}

async function sendAndKeep(ctx, state, target, activity) {
  await ctx.sendActivity({ identifier: state.identifier }, target, activity);
  state.outbox.push(activity);
}

function newId(state, kind) {
  return new URL(`${state.base}/${kind}/${crypto.randomUUID()}`);
}

async function follow(ctx, state, actorUrl) {
  const target = await lookUpActor(ctx, actorUrl);
  const me = ctx.getActorUri(state.identifier);
  const activity = new Follow({ id: newId(state, "follows"), actor: me, object: target.id });
  state.following.set(target.id.href, { state: "pending", followId: activity.id.href });
  await sendAndKeep(ctx, state, target, activity);
  return { follow: activity.id.href };
}

async function unfollow(ctx, state, actorUrl) {
  const target = await lookUpActor(ctx, actorUrl);
  const followed = state.following.get(target.id.href);
  if (followed === undefined) throw new Error(`not following ${actorUrl}`);
  const me = ctx.getActorUri(state.identifier);
  const activity = new Undo({
    id: newId(state, "undos"),
    actor: me,
    object: new Follow({ id: new URL(followed.followId), actor: me, object: target.id }),
  });
  state.following.delete(target.id.href);
  await sendAndKeep(ctx, state, target, activity);
  return { undo: activity.id.href };
}

async function send(ctx, state, input) {
  const target = await lookUpActor(ctx, input.to);
  if (input.shape === "block" && input.type !== "Delete") {
    return sendBlockJson(ctx, state, target, input);
  }
  const me = ctx.getActorUri(state.identifier);
  const objectId = new URL(`${state.base}/${input.shape === "block" ? "blocks" : "notes"}/${input.id}`);
  const object = input.type === "Delete"
    ? new Tombstone({ id: objectId })
    : new Note({
      id: objectId,
      attribution: me,
      content: input.content,
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(state.identifier),
    });
  const Kind = KINDS[input.type];
  if (Kind === undefined) throw new Error(`unknown activity type ${input.type}`);
  const activity = new Kind({
    id: newId(state, "activities"),
    actor: me,
    object,
    to: PUBLIC_COLLECTION,
    cc: ctx.getFollowersUri(state.identifier),
  });
  await sendAndKeep(ctx, state, target, activity);
  return { activity: activity.id.href };
}

// A block as our gateway reads one (federation/activities/objects.py): a Note at
// {origin}/blocks/{id}, its URN naming the same place, our terms beside the standard ones.
function blockDocument(ctx, state, input) {
  const me = ctx.getActorUri(state.identifier).href;
  const authority = new URL(state.base).host;
  const now = new Date().toISOString();
  const audience = {
    to: [PUBLIC_COLLECTION.href],
    cc: [ctx.getFollowersUri(state.identifier).href],
  };
  return {
    "@context": input.context,
    id: newId(state, "activities").href,
    type: input.type,
    actor: me,
    ...audience,
    object: {
      id: `${state.base}/blocks/${input.id}`,
      type: "Note",
      urn: `urn:block:${authority}:${input.id}`,
      attributedTo: me,
      name: input.title,
      content: input.content,
      blockKind: input.kind ?? "note",
      blockAuthor: input.author ?? "fedify",
      published: input.published ?? now,
      updated: now,
      references: [],
      visibility: "public",
      ...audience,
    },
  };
}

async function sendBlockJson(ctx, state, target, input) {
  const [rsa] = state.keyPairs;
  const rsaKeyId = (await ctx.getActorKeyPairs(state.identifier))[0].keyId;
  const signed = await signJsonLd(blockDocument(ctx, state, input), rsa.privateKey, rsaKeyId, {
    contextLoader: ctx.contextLoader,
  });
  const body = JSON.stringify(signed);
  const request = new Request(target.inboxId, {
    method: "POST",
    headers: { "Content-Type": "application/activity+json", Accept: "application/activity+json" },
    body,
  });
  const signedRequest = await signRequest(request, rsa.privateKey, rsaKeyId, {
    spec: "rfc9421",
    body: new TextEncoder().encode(body).buffer,
  });
  const response = await fetch(signedRequest);
  return { activity: signed.id, status: response.status, answer: await response.text() };
}
