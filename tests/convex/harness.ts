// Shared by the Convex tests: a convex-test instance over convex/, and a stand-in for the
// gateway's /backend/v1 endpoints on 127.0.0.1 that records what the backend sent.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { convexTest } from "convex-test";
import { vi } from "vitest";
import { encodeLocalId, type BlockJson } from "@kbfed/convex-federation";
import { modules as componentModules, register, schema as componentSchema } from "@kbfed/convex-federation/test";
import schema from "../../convex/schema";

export const TOKEN = "test-token";
export const modules = import.meta.glob("../../convex/**/*.ts");

function stubEnv(gatewayUrl: string) {
  vi.stubEnv("BACKEND_TOKEN", TOKEN);
  vi.stubEnv("GATEWAY_URL", gatewayUrl);
  vi.stubEnv("INSTANCE_DOMAIN", "alpha.example");
}

/**
 * The example app under convex-test with the federation component installed (as
 * `app.use(federation)` does); `transactionLimits` enforces Convex's per-transaction limits.
 */
export function makeBackend(gatewayUrl = "http://127.0.0.1:9", transactionLimits = false) {
  stubEnv(gatewayUrl);
  const t = convexTest({ schema, modules, transactionLimits });
  register(t);
  return t;
}

/** The component alone, as its own deployment: its tables and scheduled functions at the top. */
export function makeComponent(gatewayUrl = "http://127.0.0.1:9") {
  stubEnv(gatewayUrl);
  return convexTest({ schema: componentSchema, modules: componentModules });
}

/** A block of the app as the component's recordChange takes it. */
export function blockOf(id: string, fields: Partial<BlockJson> = {}): BlockJson {
  return {
    id,
    kind: "note",
    title: "Meeting notes",
    content: "hello",
    author: "ann",
    visibility: "public",
    embargo_until: null,
    created_at: "2025-06-15T15:06:40Z",
    updated_at: "2025-06-15T15:06:40Z",
    references: [],
    url: null,
    ...fields,
  };
}

/**
 * Runs scheduled functions until none is pending, moving the fake clock only to the next one's
 * due time: never past the reporter's own request timeout while a request is in flight.
 */
export async function drain(t: ReturnType<typeof makeComponent>) {
  for (let round = 0; round < 500; round++) {
    await t.finishInProgressScheduledFunctions();
    const jobs = await t.run(async (ctx) => await ctx.db.system.query("_scheduled_functions").collect());
    const due = jobs.filter((job) => job.state.kind === "pending").map((job) => job.scheduledTime);
    if (due.length === 0) return;
    vi.advanceTimersByTime(Math.max(0, Math.min(...due) - Date.now()));
  }
  throw new Error("scheduled functions still pending after 500 rounds");
}

export const auth = { Authorization: `Bearer ${TOKEN}` };

/** A request with the backend token and `body` as JSON (a string goes as it is: a malformed body). */
export function withJson(method: string, body: unknown) {
  const json = typeof body === "string" ? body : JSON.stringify(body);
  return { method, headers: { ...auth, "Content-Type": "application/json" }, body: json };
}

export interface Recorded {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** A gateway stand-in: `reply` decides each answer; `requests` keeps every request. */
export class GatewayStandIn {
  readonly requests: Recorded[] = [];
  /** null leaves the request unanswered (a gateway that hangs). */
  reply: (req: Recorded) => Reply | null = () => ({ status: 202 });
  private server: Server | null = null;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void readJson(req).then((body) => {
        const recorded = {
          method: req.method ?? "",
          path: req.url ?? "",
          authorization: req.headers.authorization,
          body,
        };
        this.requests.push(recorded);
        const answer = this.reply(recorded);
        if (answer === null) return;
        res.writeHead(answer.status, { "Content-Type": "application/json", ...answer.headers });
        res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, "127.0.0.1", ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  events(): { event_id: string; type: string; block_id: string }[] {
    return this.requests
      .filter((r) => r.path === "/backend/v1/events")
      .map((r) => r.body as { event_id: string; type: string; block_id: string });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((ok) => this.server?.close(ok));
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : null;
}

export const newBlock = {
  id: null,
  kind: "note",
  title: "Meeting notes",
  content: "hello",
  author: "ann",
  visibility: "public" as const,
  embargoUntil: null,
  references: [],
  url: null,
};

export function remoteBlock(id: string, updatedAt = "2025-06-15T15:07:40Z") {
  return {
    id,
    kind: "note",
    title: `remote ${id}`,
    content: "from beta",
    author: "bob",
    visibility: "public" as const,
    embargo_until: null as string | null,
    created_at: "2025-06-15T15:06:40Z",
    updated_at: updatedAt,
    references: [] as string[],
    url: `https://beta.example/blocks/${encodeLocalId(id)}` as string | null,
    urn: `urn:block:beta.example:${encodeLocalId(id)}`,
    origin: "beta.example",
    object_url: `https://beta.example/blocks/${encodeLocalId(id)}`,
  };
}
