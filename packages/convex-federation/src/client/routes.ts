// The contract's gateway -> backend routes, mounted in the app's http.ts by registerRoutes. They
// run as the app's HTTP actions (so they read the app's environment), behind the bearer token,
// and answer errors as problem+json.
import { ConvexError } from "convex/values";
import { httpActionGeneric, type FunctionReference, type GenericActionCtx, type GenericDataModel, type HttpRouter } from "convex/server";
import { z } from "zod";
import { DEFAULT_PAGE_LIMIT, inboundBatchSchema, inboundSchema, MAX_PAGE_LIMIT, type InboundNotification } from "../shared/contract";
import { remoteBlockValue, type BlockJson, type NotificationValue } from "../shared/validators";
import { guarded, jsonResponse, notFound, pathSegment, Problem, readBody, requireToken, validated } from "./http";
import { getBlocks, type ComponentApi } from "./index";

export type BlockPage = { items: BlockJson[]; nextCursor: string | null };

export interface RouteOptions {
  /** The app's query for one block by local id, any visibility (null when none). */
  getBlock: FunctionReference<"query", "internal" | "public", { id: string }, BlockJson | null>;
  /**
   * The app's query for one page of its blocks in creation order; `federated` keeps public and
   * embargoed ones. It throws `invalidCursor()` for a cursor it did not hand out.
   */
  listBlocks: FunctionReference<"query", "internal" | "public", { federated: boolean; cursor: string | null; limit: number }, BlockPage>;
  /** The bearer token (default: the app's BACKEND_TOKEN). Empty refuses everything. */
  backendToken?: () => string;
  /** The instance's domain (default: the app's INSTANCE_DOMAIN), so its own URNs read locally. */
  instanceDomain?: () => string;
}

const BLOCKS = "/api/v1/blocks";
const REMOTE = "/api/v1/remote-blocks";
type Ctx = GenericActionCtx<GenericDataModel>;

type Route = (method: "GET" | "POST", path: string, handler: (ctx: Ctx, request: Request) => Promise<Response>) => void;

export function registerRoutes(http: HttpRouter, component: ComponentApi, options: RouteOptions): void {
  const token = options.backendToken ?? (() => process.env.BACKEND_TOKEN ?? "");
  const route: Route = (method, path, handler) => {
    const action = httpActionGeneric(async (ctx, request) =>
      guarded(async () => {
        requireToken(request, token());
        return await handler(ctx, request);
      }),
    );
    http.route(path.endsWith("/") ? { pathPrefix: path, method, handler: action } : { path, method, handler: action });
  };
  blockRoutes(route, options);
  inboundRoutes(route, component, options);
  healthRoute(http, component);
}

/** GET /api/v1/blocks (a page) and /api/v1/blocks/{id}: the app's blocks, through its queries. */
function blockRoutes(route: Route, options: RouteOptions): void {
  route("GET", BLOCKS, async (ctx, request) => {
    const query = new URL(request.url).searchParams;
    const limit = pageLimit(query.get("limit"));
    const cursor = query.get("cursor") || null;
    const federated = ["1", "true"].includes(query.get("federated") ?? "");
    let page: BlockPage;
    try {
      page = await ctx.runQuery(options.listBlocks, { federated, cursor, limit });
    } catch (error) {
      // Only a cursor the query recognised as malformed is the caller's fault (400); any other
      // failure stays a 5xx, which the gateway retries.
      if (!(error instanceof ConvexError) || (error.data as { code?: string })?.code !== "invalid_cursor") throw error;
      throw new Problem(400, "Invalid cursor", "use next_cursor from a previous page");
    }
    return jsonResponse({ items: page.items, next_cursor: page.nextCursor });
  });

  route("GET", `${BLOCKS}/`, async (ctx, request) => {
    const id = pathSegment(request, `${BLOCKS}/`);
    const block = await ctx.runQuery(options.getBlock, { id });
    if (block === null) throw notFound(`block with id ${JSON.stringify(id)}`);
    return jsonResponse(block);
  });
}

/** POST /api/v1/inbound and the reads of what it stored; getBlock as /api/v1/resolve. */
function inboundRoutes(route: Route, component: ComponentApi, options: RouteOptions): void {
  const domain = options.instanceDomain ?? (() => process.env.INSTANCE_DOMAIN ?? "");
  route("POST", "/api/v1/inbound", async (ctx, request) => {
    // One notification (an object) or a batch (an array, each applied as if posted alone, all in
    // one transaction: a malformed item is a 422 naming it, and none is stored).
    const data = await readBody(request, z.unknown());
    const notes = Array.isArray(data) ? validated(inboundBatchSchema, { items: data }).items : [validated(inboundSchema, data)];
    // A repeated id is acknowledged the same way: the gateway's queue must stop retrying it.
    await ctx.runMutation(component.inbound.apply, { notes: notes.map(notificationValue) });
    return new Response(null, { status: 204 });
  });

  route("GET", REMOTE, async (ctx) => jsonResponse({ items: await ctx.runQuery(component.inbound.remoteBlocks, {}) }));

  route("GET", `${REMOTE}/`, async (ctx, request) => {
    const urn = pathSegment(request, `${REMOTE}/`);
    const block = await ctx.runQuery(component.inbound.remoteBlock, { urn });
    if (block === null) throw notFound(`remote block ${JSON.stringify(urn)}`);
    return jsonResponse(block);
  });

  route("GET", "/api/v1/follows", async (ctx) => jsonResponse({ items: await ctx.runQuery(component.inbound.follows, {}) }));

  // getBlock over HTTP: ?ref= takes a local id or any URN (the reference backend's ?urn= too).
  route("GET", "/api/v1/resolve", async (ctx, request) => {
    const query = new URL(request.url).searchParams;
    const ref = query.get("ref") || query.get("urn");
    if (!ref) throw new Problem(400, "Missing parameter", "give the reference as ?ref= or ?urn=");
    const [answer] = await getBlocks(ctx, component, [ref], { getBlock: options.getBlock, instanceDomain: domain() });
    return jsonResponse(answer);
  });
}

/**
 * GET /healthz, without the token (a load balancer's probe). It reads only the small outbox rows,
 * up to a cap, so it answers during exactly the long gateway outage it should report.
 */
function healthRoute(http: HttpRouter, component: ComponentApi): void {
  http.route({
    path: "/healthz",
    method: "GET",
    handler: httpActionGeneric(async (ctx) => {
      const pending = await ctx.runQuery(component.outbox.pendingCount, {});
      const capped = pending.capped ? { pending_events_capped: true } : {};
      return jsonResponse({ status: "ok", pending_events: pending.count, ...capped });
    }),
  });
}

function pageLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE_LIMIT;
  const limit = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_PAGE_LIMIT)) {
    throw new Problem(400, "Invalid limit", `limit must be 1..${MAX_PAGE_LIMIT}`);
  }
  return limit;
}

function notificationValue(note: InboundNotification): NotificationValue {
  return { ...note, block: note.block === null ? null : remoteBlockValue(note.block) };
}
