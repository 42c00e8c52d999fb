// What crossed the wire, both ways, as the tests need to see it.
//
// Outbound: every request Fedify makes goes through the global fetch, wrapped here to note the
// signature scheme it carried, the status our gateway answered and any Accept-Signature in it,
// and the exact body (a recorded Fedify activity is kept as a test vector).
//
// Inbound: each POST is copied before Fedify's own inbox handles it, and Fedify's answer is
// noted. Fedify stops at the first mechanism that verifies (a proof, then an LD signature, then
// the HTTP signature), so to say which of them hold on what our gateway sent, each is also
// checked on its own with Fedify's verifiers: verifyRequest, verifyObject, verifyJsonLd.
import { verifyJsonLd, verifyObject, verifyRequest } from "@fedify/fedify";
import { Activity } from "@fedify/vocab";

export class WireLog {
  inbound = [];
  outbound = [];
  errors = [];

  outboxError(error, activity) {
    this.errors.push({ activity: activity?.id?.href ?? null, error: String(error) });
  }
}

export function signatureScheme(headers) {
  if (headers.has("signature-input")) return "rfc9421";
  if (headers.has("signature")) return "cavage";
  return "none";
}

export function recordOutboundFetches(wire) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === "POST" ? await request.clone().text() : null;
    const entry = {
      method: request.method,
      url: request.url,
      scheme: signatureScheme(request.headers),
      signatureInput: request.headers.get("signature-input"),
      body,
      status: null,
      acceptSignature: null,
    };
    wire.outbound.push(entry);
    const response = await realFetch(request);
    entry.status = response.status;
    entry.acceptSignature = response.headers.get("accept-signature");
    return response;
  };
}

export async function recordInbound(request, federation, state) {
  const copy = request.clone();
  const response = await federation.fetch(request, { contextData: undefined });
  const body = await copy.text();
  const entry = {
    path: new URL(request.url).pathname,
    scheme: signatureScheme(request.headers),
    signatureInput: request.headers.get("signature-input"),
    status: response.status,
    acceptSignature: response.headers.get("accept-signature"),
    body,
    checks: null, // filled in below, after Fedify has answered
  };
  state.wire.inbound.push(entry);
  const replay = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
  });
  independentChecks(replay, body, federation, state.base).then(
    (checks) => (entry.checks = checks),
    (error) => (entry.checks = { error: String(error) }),
  );
  return response;
}

async function independentChecks(request, body, federation, base) {
  const ctx = federation.createContext(new URL(base), undefined);
  const loaders = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
  const json = JSON.parse(body);
  const { signature, ...withoutSignature } = json;
  const key = await verifyRequest(request, loaders).catch(() => null);
  const proved = "proof" in json
    ? (await verifyObject(Activity, withoutSignature, loaders).catch(() => null)) != null
    : null;
  const ldSigned = signature === undefined
    ? null
    : await verifyJsonLd(json, loaders).catch(() => false);
  return { httpSignature: key?.id?.href ?? null, proof: proved, ldSignature: ldSigned };
}
