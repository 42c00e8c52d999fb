// HTTP plumbing of the contract: problem+json errors, the bearer token, bounded JSON bodies.
import { ConvexError } from "convex/values";
import type { z } from "zod";
import type { FieldError } from "../shared/bounds";
import { fieldErrors } from "../shared/contract";

export const MAX_BODY_BYTES = 1024 * 1024;
const PROBLEM_TYPE = "application/problem+json";

/** An error that leaves as an RFC 9457 problem document. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${status} ${title}: ${detail}`);
  }
}

export function problemResponse(problem: Problem): Response {
  const body = {
    type: "about:blank",
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    ...problem.extra,
  };
  const headers: Record<string, string> = {
    "Content-Type": PROBLEM_TYPE,
    "Cache-Control": "no-store",
  };
  if (problem.status === 401) headers["WWW-Authenticate"] = 'Bearer realm="backend"';
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}

export function jsonResponse(data: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export const notFound = (what: string) => new Problem(404, "Not found", `no ${what}`);

/** Runs a handler, turning a thrown Problem (or anything else) into a problem response. */
export async function guarded(handler: () => Promise<Response>): Promise<Response> {
  try {
    return await handler();
  } catch (error) {
    if (error instanceof Problem) return problemResponse(error);
    const invalid = invalidBlockErrors(error);
    if (invalid !== null) return problemResponse(invalidRequest(invalid));
    console.error("unhandled error in an HTTP action", error);
    // A 5xx tells the gateway to retry later; nothing half-done was committed, because each
    // change is one mutation (one transaction).
    return problemResponse(new Problem(500, "Internal error", "the backend failed; see its log"));
  }
}

/** The whole Authorization header against `Bearer <token>`, in constant time. */
export function requireToken(request: Request, token: string): void {
  const given = new TextEncoder().encode(request.headers.get("Authorization") ?? "");
  const expected = new TextEncoder().encode(`Bearer ${token}`);
  // An empty configured token locks the API rather than opening it.
  if (token === "" || !constantTimeEqual(given, expected)) {
    throw new Problem(401, "Unauthorized", "missing or wrong bearer token");
  }
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // Always walk the expected value's full length so the time says nothing about the prefix.
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Parses a JSON body of at most 1 MiB into `schema`: 413, 400 or 422 problems otherwise. */
export async function readBody<T extends z.ZodType>(
  request: Request,
  schema: T,
): Promise<z.infer<T>> {
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const raw = new Uint8Array(await request.arrayBuffer());
  if (raw.length > MAX_BODY_BYTES) throw tooLarge();
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder().decode(raw));
  } catch (error) {
    throw new Problem(400, "Invalid JSON", `the body is not JSON: ${String(error)}`);
  }
  return validated(schema, data);
}

export function validated<T extends z.ZodType>(schema: T, data: unknown): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw invalidRequest(fieldErrors(result.error));
}

/** The contract's 422: `errors` names every bad field, `detail` says them in one line. */
export function invalidRequest(errors: FieldError[]): Problem {
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return new Problem(422, "Invalid request", detail, { errors });
}

/** The field errors of a block a mutation refused for the gateway's bounds, else null. */
function invalidBlockErrors(error: unknown): FieldError[] | null {
  if (!(error instanceof ConvexError)) return null;
  const data = error.data as { code?: unknown; errors?: unknown };
  return data?.code === "invalid_block" && Array.isArray(data.errors) ? (data.errors as FieldError[]) : null;
}

function tooLarge(): Problem {
  return new Problem(413, "Payload too large", `bodies are capped at ${MAX_BODY_BYTES} bytes`);
}

/** The one path segment after `prefix`, percent-decoded (`%2F` is part of an id). */
export function pathSegment(request: Request, prefix: string): string {
  const path = new URL(request.url).pathname;
  const raw = path.slice(prefix.length);
  if (raw === "" || raw.includes("/")) throw notFound(`resource at ${path}`);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw notFound(`resource at ${path}`);
  }
}
