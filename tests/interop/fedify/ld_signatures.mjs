// Fedify's own Linked Data Signatures (RsaSignature2017) code, driven from Python.
//   node ld_signatures.mjs server-create < {"actor": "https://..."}
//     -> {"document": {...}, "publicKeyPem": "...", "keyId": "...#main-key", "ed25519KeyId": "...",
//         "ed25519PublicKeyMultibase": "z6Mk..."}
//        The body of a Create(Note) that a Fedify server sent (sendActivity): an FEP-8b32 proof
//        made with its Ed25519 key, THEN an RsaSignature2017 made with its RSA key.
//   node ld_signatures.mjs sign-json < {"document": {...}, "keyId": "...#main-key"}
//     -> {"document": {...}, "publicKeyPem": "..."}  (signJsonLd over the JSON as given)
//   node ld_signatures.mjs verify < {"document": {...}, "documents": {"url": {...}}}
//     -> {"verified": true|false}  (verifyJsonLd: the signature, and the key's owner is the actor)
// Only the documents given and Fedify's preloaded JSON-LD contexts can be loaded: no network.
import { Temporal } from "@js-temporal/polyfill";
import { exportMultibaseKey } from "@fedify/vocab-runtime";
import { createServer } from "node:http";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { signJsonLd, verifyJsonLd } from "@fedify/fedify/sig";
import {
  Create,
  Hashtag,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
} from "@fedify/fedify/vocab";
import { loaderFor, readInput } from "./offline.mjs";

const input = await readInput();

async function rsaKeyPair() {  // as Fedify's generateCryptoKeyPair, exportable
  return await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
}

async function pem(publicKey) {
  const der = Buffer.from(await crypto.subtle.exportKey("spki", publicKey)).toString("base64");
  const lines = der.match(/.{1,64}/g).join("\n");
  return `-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----\n`;
}

async function serverCreate({ actor }) {
  // A real Fedify server (createFederation, an actor with RSA and Ed25519 key pairs as Fedify's
  // manual sets it up) sends the Create to an inbox on 127.0.0.1; we keep the body it sent.
  const origin = new URL(actor).origin;
  const identifier = new URL(actor).pathname.split("/").pop();
  const rsa = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const ed25519 = await generateCryptoKeyPair("Ed25519");
  // Its own document loader (which preloads every context used here); allowPrivateAddress lets
  // it deliver to 127.0.0.1.
  const federation = createFederation({ kv: new MemoryKvStore(), allowPrivateAddress: true });
  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, id) => {
      const keys = await ctx.getActorKeyPairs(id);
      return new Person({
        id: ctx.getActorUri(id),
        preferredUsername: id,
        inbox: ctx.getInboxUri(id),
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((key) => key.multikey),
      });
    })
    .setKeyPairsDispatcher(async () => [rsa, ed25519]);
  federation.setInboxListeners("/users/{identifier}/inbox", "/inbox");
  let server;
  const received = new Promise((resolve) => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => (body += chunk));
      request.on("end", () => {
        response.writeHead(202).end();
        resolve(body);
      });
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const inbox = new URL(`http://127.0.0.1:${server.address().port}/inbox`);
  const ctx = federation.createContext(new URL(origin), undefined);
  const create = new Create({
    id: new URL(`${actor}/posts/1/activity`),
    actor: ctx.getActorUri(identifier),
    to: PUBLIC_COLLECTION,
    cc: new URL(`${actor}/followers`),
    object: new Note({
      id: new URL(`${actor}/posts/1`),
      attribution: ctx.getActorUri(identifier),
      to: PUBLIC_COLLECTION,
      cc: new URL(`${actor}/followers`),
      content: "<p>Written by Fedify, sent by a Fedify server</p>",
      published: Temporal.Instant.from("2026-12-01T10:00:00Z"),
      tags: [
        new Mention({ href: new URL("https://mastodon.example/users/ann"), name: "@ann" }),
        new Hashtag({ href: new URL(`${origin}/tags/kb`), name: "#kb" }),
      ],
    }),
  });
  await ctx.sendActivity(
    { identifier },
    { id: new URL("https://kb.example/actor"), inboxId: inbox },
    create,
    { immediate: true },
  );
  const document = JSON.parse(await received);
  server.close();
  const keys = await ctx.getActorKeyPairs(identifier);
  return {
    document,
    publicKeyPem: await pem(rsa.publicKey),
    keyId: keys[0].keyId.href,
    ed25519KeyId: keys[1].keyId.href,
    ed25519PublicKeyMultibase: await exportMultibaseKey(ed25519.publicKey),
  };
}

async function signJson({ document, keyId }) {
  const rsa = await rsaKeyPair();
  const signed = await signJsonLd(document, rsa.privateKey, new URL(keyId), {
    contextLoader: loaderFor({}),
  });
  return { document: signed, publicKeyPem: await pem(rsa.publicKey) };
}

async function verify({ document, documents }) {
  const loader = loaderFor(documents);
  const verified = await verifyJsonLd(document, { documentLoader: loader, contextLoader: loader });
  return { verified };
}

const modes = { "server-create": serverCreate, "sign-json": signJson, verify };
const mode = modes[process.argv[2]];
if (mode === undefined) throw new Error(`unknown mode ${process.argv[2]}`);
process.stdout.write(JSON.stringify(await mode(input)));
