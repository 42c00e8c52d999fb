// A stand-in for a Convex deployment's HTTP actions URL: convex-test (Convex's official
// in-process mock of its backend) runs the functions in convex/, and this serves them over
// real HTTP on 127.0.0.1. The Convex backend binary cannot be installed on the machines this
// project is tested on, so this bridge is what the end-to-end test puts behind a gateway.
//
// Scheduled functions (the outbox reporter, embargo releases) run on real timers, as they do
// on a deployment. Crons do not run under convex-test; the reporter does not need them.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { convexTest } from "convex-test";
import type { GenericSchema, SchemaDefinition } from "convex/server";

type Modules = Record<string, () => Promise<unknown>>;
type Functions = { schema: SchemaDefinition<GenericSchema, boolean>; modules: Modules };
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "upgrade"]);

/** Serves `app` with the federation component installed, as `app.use(federation)` does. */
export async function serveBridge(app: Functions, component: Functions, port: number): Promise<void> {
  const t = convexTest({ schema: app.schema, modules: app.modules as never });
  t.registerComponent("federation", component.schema, component.modules as never);
  const server = createServer((req, res) => {
    forward(t, req)
      .then(async (response) => {
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => (headers[name] = value));
        res.writeHead(response.status, headers);
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch((error: unknown) => {
        console.error("bridge: request failed", error);
        res.writeHead(502, { "Content-Type": "application/problem+json" });
        res.end(JSON.stringify({ type: "about:blank", title: "Bridge failure", status: 502, detail: String(error) }));
      });
  });
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));
  console.log(`convex bridge listening on 127.0.0.1:${(server.address() as AddressInfo).port}`);
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

async function forward(t: { fetch: ReturnType<typeof convexTest>["fetch"] }, req: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const method = req.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : Buffer.concat(chunks);
  return await t.fetch(req.url ?? "/", { method, headers, body });
}
