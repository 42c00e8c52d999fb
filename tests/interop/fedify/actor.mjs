// The one actor of the Fedify server, set up the way Fedify's manual shows it (docs/manual/
// actor.md, inbox.md, collections.md): an actor dispatcher with a key pairs dispatcher holding
// an RSASSA-PKCS1-v1_5 pair (HTTP signatures, Linked Data signatures) and an Ed25519 pair
// (Object Integrity Proofs), inbox listeners on a personal and a shared inbox, a followers
// collection. WebFinger is Fedify's own, answered from the actor dispatcher.
import { generateCryptoKeyPair } from "@fedify/fedify";
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

export async function setUpActor(federation, state) {
  // Generated once per run, as a new account's keys are; RSA first, as the manual has it.
  const keyPairs = [
    await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
    await generateCryptoKeyPair("Ed25519"),
  ];
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
