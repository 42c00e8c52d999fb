// Calls from this backend to its gateway (/backend/v1/...), with the shared bearer token.
// Redirects are refused: the token goes to the configured base URL only.
import { env } from "../_generated/server";
import { resolveBatchSchema, resolveResultSchema, type ResolveResult } from "../../shared/contract";

const GATEWAY_PREFIX = "/backend/v1";
const TIMEOUT_MS = 10_000;
// Worth retrying although 4xx: a token being fixed, timeouts, rate limits (contract rule 3).
const RETRYABLE_4XX = new Set([401, 403, 408, 425, 429]);

export type PostOutcome =
  | { outcome: "accepted" }
  | { outcome: "rejected"; error: string }
  | { outcome: "retry"; error: string; retryAfterMs: number };

function gatewayBase(): string {
  const url = env.GATEWAY_URL;
  if (!url) throw new Error("the GATEWAY_URL environment variable is not set");
  return url.replace(/\/+$/, "") + GATEWAY_PREFIX;
}

function authHeaders(): Record<string, string> {
  return { Authorization: `Bearer ${env.BACKEND_TOKEN ?? ""}` };
}

async function call(path: string, init: RequestInit): Promise<Response> {
  // A plain AbortController and setTimeout (both in Convex's action runtime) bound the call.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(gatewayBase() + path, {
      ...init,
      headers: { ...authHeaders(), ...(init.headers as Record<string, string>) },
      redirect: "manual",
      signal: controller.signal,
    });
    await response.clone().arrayBuffer(); // the body too must arrive within the timeout
    return response;
  } finally {
    clearTimeout(timer);
  }
}

/** POST one event body; the answer classified by the contract's delivery rules. */
export async function postEvent(body: string): Promise<PostOutcome> {
  let response: Response;
  try {
    response = await call("/events", {
      method: "POST",
      body,
      headers: { "Content-Type": "application/json" },
    });
  } catch (error) {
    return { outcome: "retry", error: `gateway unreachable: ${String(error)}`, retryAfterMs: 0 };
  }
  if (response.status >= 200 && response.status < 300) return { outcome: "accepted" };
  const text = (await response.text()).slice(0, 300);
  const error = `gateway answered ${response.status}: ${text}`;
  if (response.status >= 400 && response.status < 500 && !RETRYABLE_4XX.has(response.status)) {
    return { outcome: "rejected", error };
  }
  return { outcome: "retry", error, retryAfterMs: retryAfterMs(response.headers.get("Retry-After")) };
}

function retryAfterMs(value: string | null): number {
  const seconds = Number(value ?? "");
  // An HTTP date (or garbage) falls back to our own backoff.
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** Resolve URNs through the gateway: one GET for one URN, one POST for several. */
export async function resolveUrns(urns: string[]): Promise<ResolveResult[]> {
  try {
    if (urns.length === 1) {
      const query = new URLSearchParams({ urn: urns[0]! }).toString();
      const data = await answer(await call(`/resolve?${query}`, { method: "GET" }));
      return [resolveResultSchema.parse(data)];
    }
    const response = await call("/resolve", {
      method: "POST",
      body: JSON.stringify({ urns }),
      headers: { "Content-Type": "application/json" },
    });
    const results = resolveBatchSchema.parse(await answer(response)).results;
    if (results.length !== urns.length) throw new Error("the gateway answered a different count");
    return results;
  } catch (error) {
    // Unreachable, refused or malformed: every URN is an error the caller may retry later.
    const message = `the gateway could not resolve: ${String(error)}`;
    return urns.map((urn) => ({ urn, status: "error", block: null, error: message, cached: false }));
  }
}

async function answer(response: Response): Promise<unknown> {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}
