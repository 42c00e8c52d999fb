// The one actor of the Fedify server, set up the way Fedify's manual shows it (docs/manual/
// actor.md, inbox.md, collections.md): an actor dispatcher with a key pairs dispatcher holding
// an RSASSA-PKCS1-v1_5 pair (HTTP signatures, Linked Data signatures) and an Ed25519 pair
// (Object Integrity Proofs), inbox listeners on a personal and a shared inbox, a followers
// collection and an outbox. WebFinger is Fedify's own, answered from the actor dispatcher.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import {
  Accept,
  Create,
  Delete,
  Endpoints,
  Follow,
  Person,
  Reject,
  Undo,
  Update,
} from "@fedify/vocab";

// The actor's key pairs, RSA first, as the manual makes them (generateCryptoKeyPair) and keeps
// them (as JWK, loaded back with importJwk). `path`: where they are kept between runs, so the
// suite pays for one RSA key generation (about 2 s here), not one per server.
async function keyPairsFrom(path) {
  if (path != null && existsSync(path)) {
    return await Promise.all(JSON.parse(readFileSync(path, "utf8")).map(async (saved) => ({
      privateKey: await importJwk(saved.privateKey, "private"),
      publicKey: await importJwk(saved.publicKey, "public"),
    })));
  }
  const pairs = [
    await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
    await generateCryptoKeyPair("Ed25519"),
  ];
  if (path != null) {
    const saved = await Promise.all(pairs.map(async (pair) => ({
      privateKey: await exportJwk(pair.privateKey),
      publicKey: await exportJwk(pair.publicKey),
    })));
    writeFileSync(`${path}.${process.pid}`, JSON.stringify(saved));
    renameSync(`${path}.${process.pid}`, path); // whole or not at all
  }
  return pairs;
}

export async function setUpActor(federation, state, keysPath) {
  const keyPairs = await keyPairsFrom(keysPath);
  state.keyPairs = keyPairs;

  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== state.identifier) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: "Fedify interop actor",
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        followers: ctx.getFollowersUri(identifier),
        outbox: ctx.getOutboxUri(identifier),
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((key) => key.multikey),
      });
    })
    .setKeyPairsDispatcher((ctx, identifier) =>
      identifier === state.identifier ? keyPairs : []
    );

  federation
    .setFollowersDispatcher("/users/{identifier}/followers", (ctx, identifier) => {
      if (identifier !== state.identifier) return null;
      const items = [...state.followers.values()].map((f) => ({
        id: new URL(f.id),
        inboxId: new URL(f.inboxId),
        endpoints: f.sharedInboxId ? { sharedInbox: new URL(f.sharedInboxId) } : null,
      }));
      return { items };
    });

  // The outbox (docs/manual/collections.md): what this actor sent through sendActivity.
  federation.setOutboxDispatcher("/users/{identifier}/outbox", (ctx, identifier) =>
    identifier === state.identifier ? { items: [...state.outbox].reverse() } : null
  );

  federation
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(Follow, (ctx, follow) => onFollow(ctx, follow, state))
    .on(Accept, (ctx, accept) => onAnswer(ctx, accept, state, "accepted"))
    .on(Reject, (ctx, reject) => onAnswer(ctx, reject, state, "rejected"))
    .on(Undo, (ctx, undo) => onUndo(ctx, undo, state))
    .on(Create, (ctx, activity) => remember(state, activity))
    .on(Update, (ctx, activity) => remember(state, activity))
    .on(Delete, (ctx, activity) => remember(state, activity));
}

// What the tests read: each activity as Fedify parsed it (compact JSON-LD). Only verified
// activities reach a listener, so being listed here means Fedify verified it.
async function remember(state, activity) {
  const json = await activity.toJsonLd({ format: "compact" });
  state.received.push({
    id: activity.id?.href ?? null,
    type: json.type,
    actor: activity.actorId?.href ?? null,
    objectId: activity.objectId?.href ?? null,
    json,
  });
}

// The manual's Follow listener: accept every follow of our actor.
async function onFollow(ctx, follow, state) {
  await remember(state, follow);
  if (follow.id == null || follow.objectId == null) return;
  const parsed = ctx.parseUri(follow.objectId);
  if (parsed?.type !== "actor") return;
  const follower = await follow.getActor(ctx);
  if (follower == null || follower.id == null || follower.inboxId == null) return;
  state.followers.set(follower.id.href, {
    id: follower.id.href,
    inboxId: follower.inboxId.href,
    sharedInboxId: follower.endpoints?.sharedInbox?.href ?? null,
  });
  await ctx.sendActivity(
    { identifier: parsed.identifier },
    follower,
    new Accept({ actor: follow.objectId, object: follow.id }),
  );
}

// An Accept or Reject of a follow we sent: the answering actor decides, whatever the object.
async function onAnswer(ctx, answer, state, outcome) {
  await remember(state, answer);
  const actor = answer.actorId?.href;
  const follow = actor == null ? undefined : state.following.get(actor);
  if (follow !== undefined) follow.state = outcome;
}

async function onUndo(ctx, undo, state) {
  await remember(state, undo);
  const actor = undo.actorId?.href;
  let object = null;
  try {
    object = await undo.getObject(ctx);
  } catch {
    object = null; // named by an id this server cannot fetch: an Undo of the sender's follow
  }
  // An Undo names the Follow by id or embeds it; either way only its own actor can undo it.
  if (actor != null && (object == null || object instanceof Follow)) {
    state.followers.delete(actor);
  }
}
