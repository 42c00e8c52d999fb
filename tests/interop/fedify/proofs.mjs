// Fedify's own object-integrity-proof code, driven from the Python interop tests.
//   node proofs.mjs verify  < {"document": {...}, "documents": {"url": {...}}}
//     -> {"activity": true|false, "object": true|false}  (Fedify's verifyObject on the Create,
//        and on the block embedded in it)
//   node proofs.mjs sign    < {"actor": "https://...", "keyId": "https://...#key"}
//     -> {"document": {...}, "publicKeyMultibase": "z6Mk..."}  (a Create(Note) Fedify signed)
// Only the documents given (and Fedify's preloaded JSON-LD contexts) can be loaded: no network.
import { exportMultibaseKey } from "@fedify/vocab-runtime";
import { signObject, verifyObject } from "@fedify/fedify/sig";
import { Create, Note } from "@fedify/fedify/vocab";
import { loaderFor, readInput } from "./offline.mjs";

const input = await readInput();

async function verify({ document, documents }) {
  const loader = loaderFor(documents);
  const options = { documentLoader: loader, contextLoader: loader };
  const activity = await verifyObject(Create, document, options);
  const embedded = document.object;
  const object = typeof embedded === "object" && embedded !== null
    ? await verifyObject(Note, embedded, options)
    : null;
  return { activity: activity !== null, object: object !== null };
}

async function sign({ actor, keyId }) {
  const { privateKey, publicKey } = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
    "verify",
  ]);
  const create = new Create({
    id: new URL(`${actor}/activities/fedify-1`),
    actor: new URL(actor),
    object: new Note({
      id: new URL(`${actor}/notes/1`),
      attribution: new URL(actor),
      content: "Written by Fedify, signed by Fedify",
    }),
  });
  const loader = loaderFor({});
  const signed = await signObject(create, privateKey, new URL(keyId), { contextLoader: loader });
  const document = await signed.toJsonLd({ format: "compact", contextLoader: loader });
  return { document, publicKeyMultibase: await exportMultibaseKey(publicKey) };
}

const mode = process.argv[2];
const result = mode === "verify" ? await verify(input) : await sign(input);
process.stdout.write(JSON.stringify(result));
