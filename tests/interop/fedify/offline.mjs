// What the one-shot Fedify scripts (proofs.mjs, ld_signatures.mjs) share: their JSON input
// on stdin, and a document loader that knows only the documents given (and Fedify's
// preloaded JSON-LD contexts), so nothing is fetched from the network.
import { preloadedContexts } from "@fedify/vocab-runtime";

export async function readInput() {
  const text = await new Promise((resolve) => {
    let read = "";
    process.stdin.on("data", (chunk) => (read += chunk));
    process.stdin.on("end", () => resolve(read));
  });
  return JSON.parse(text);
}

export function loaderFor(documents) {
  return async (url) => {
    const bare = url.split("#")[0];
    const document = documents[url] ?? documents[bare] ?? preloadedContexts[url];
    if (document === undefined) throw new Error(`not available to this test: ${url}`);
    return { contextUrl: null, documentUrl: url, document };
  };
}
