// The gateway -> backend side of docs/backend-contract.md as HTTP actions, plus the reference
// backend's management API (create/edit/delete blocks, remote blocks, follows, resolve), so a
// Convex deployment is a drop-in for `federation backend serve`.
import { httpRouter } from "convex/server";
import { api, internal } from "./_generated/api";
import { httpAction, type ActionCtx } from "./_generated/server";
import { ConvexError } from "convex/values";
import { z } from "zod";
import {
  blockCreateSchema,
  blockPatchSchema,
  DEFAULT_PAGE_LIMIT,
  inboundBatchSchema,
  inboundSchema,
  MAX_PAGE_LIMIT,
  type InboundNotification,
} from "./model/contract";
import { remoteBlockValue, type NotificationValue } from "./model/validators";
import {
  guarded,
  jsonResponse,
  notFound,
  pathSegment,
  Problem,
  readBody,
  requireToken,
  validated,
} from "./model/http";
import { renderBlock } from "./model/pages";

const BLOCKS = "/api/v1/blocks";
const REMOTE = "/api/v1/remote-blocks";
const http = httpRouter();

type Handler = (ctx: ActionCtx, request: Request) => Promise<Response>;
/** An HTTP action behind the bearer token, whose errors leave as problem+json. */
const api_ = (handler: Handler) =>
  httpAction(async (ctx, request) =>
    guarded(async () => {
      requireToken(request);
      return await handler(ctx, request);
    }),
  );

http.route({
  path: BLOCKS,
  method: "GET",
  handler: api_(async (ctx, request) => {
    const query = new URL(request.url).searchParams;
    const limit = pageLimit(query.get("limit"));
    const cursor = query.get("cursor") || null;
    const federated = ["1", "true"].includes(query.get("federated") ?? "");
    let page;
    try {
      page = await ctx.runQuery(internal.blocks.page, { federated, cursor, limit });
    } catch (error) {
      // Only a cursor the query recognised as malformed is the caller's fault (400); any other
      // failure stays a 5xx, which the gateway retries.
      if (!(error instanceof ConvexError) || (error.data as { code?: string })?.code !== "invalid_cursor") throw error;
      throw new Problem(400, "Invalid cursor", "use next_cursor from a previous page");
    }
    return jsonResponse({ items: page.items, next_cursor: page.nextCursor });
  }),
});

http.route({
  pathPrefix: `${BLOCKS}/`,
  method: "GET",
  handler: api_(async (ctx, request) => {
    const id = pathSegment(request, `${BLOCKS}/`);
    const block = await ctx.runQuery(internal.blocks.get, { id });
    if (block === null) throw notFound(`block with id ${JSON.stringify(id)}`);
    return jsonResponse(block);
  }),
});

http.route({
  path: `/api/v1/inbound`,
  method: "POST",
  handler: api_(async (ctx, request) => {
    // One notification (an object) or a batch (an array, each applied as if posted alone, all in
    // one transaction: a malformed item is a 422 naming it, and none is stored).
    const data = await readBody(request, z.unknown());
    const notes = Array.isArray(data)
      ? validated(inboundBatchSchema, { items: data }).items
      : [validated(inboundSchema, data)];
    // A repeated id is acknowledged the same way: the gateway's queue must stop retrying it.
    await ctx.runMutation(internal.inbound.apply, { notes: notes.map(notificationValue) });
    return new Response(null, { status: 204 });
  }),
});

// --- the management API (same shapes as the reference backend's) ---

http.route({
  path: BLOCKS,
  method: "POST",
  handler: api_(async (ctx, request) => {
    const { embargo_until, ...fields } = await readBody(request, blockCreateSchema);
    const embargoUntil = fields.visibility === "embargoed" ? millis(embargo_until) : null;
    const block = await ctx.runMutation(internal.blocks.create, { ...fields, embargoUntil });
    if (block === null) throw new Problem(409, "Conflict", `a block with id ${JSON.stringify(fields.id)} exists`);
    const location = `${BLOCKS}/${encodeURIComponent(block.id)}`;
    return jsonResponse(block, 201, { Location: location });
  }),
});

http.route({
  pathPrefix: `${BLOCKS}/`,
  method: "PATCH",
  handler: api_(async (ctx, request) => {
    const id = pathSegment(request, `${BLOCKS}/`);
    const { embargo_until, ...patch } = await readBody(request, blockPatchSchema);
    const embargoUntil = embargo_until === undefined ? undefined : millis(embargo_until);
    const result = await ctx.runMutation(internal.blocks.edit, { id, ...patch, embargoUntil });
    if (result === "not_found") throw notFound(`block with id ${JSON.stringify(id)}`);
    if (result === "embargo_required") {
      const field = { field: "embargo_until", message: "required when visibility is 'embargoed'" };
      throw new Problem(422, "Invalid request", `${field.field}: ${field.message}`, { errors: [field] });
    }
    return jsonResponse(result);
  }),
});

http.route({
  pathPrefix: `${BLOCKS}/`,
  method: "DELETE",
  handler: api_(async (ctx, request) => {
    const id = pathSegment(request, `${BLOCKS}/`);
    if (!(await ctx.runMutation(internal.blocks.remove, { id }))) {
      throw notFound(`block with id ${JSON.stringify(id)}`);
    }
    return new Response(null, { status: 204 });
  }),
});

http.route({
  path: REMOTE,
  method: "GET",
  handler: api_(async (ctx) => jsonResponse({ items: await ctx.runQuery(internal.inbound.remoteBlocks, {}) })),
});

http.route({
  pathPrefix: `${REMOTE}/`,
  method: "GET",
  handler: api_(async (ctx, request) => {
    const urn = pathSegment(request, `${REMOTE}/`);
    const block = await ctx.runQuery(internal.inbound.remoteBlock, { urn });
    if (block === null) throw notFound(`remote block ${JSON.stringify(urn)}`);
    return jsonResponse(block);
  }),
});

http.route({
  path: "/api/v1/follows",
  method: "GET",
  handler: api_(async (ctx) => jsonResponse({ items: await ctx.runQuery(internal.inbound.follows, {}) })),
});

// getBlock over HTTP: ?ref= takes a local id or any URN (the reference backend's ?urn= too).
http.route({
  path: "/api/v1/resolve",
  method: "GET",
  handler: api_(async (ctx, request) => {
    const query = new URL(request.url).searchParams;
    const ref = query.get("ref") || query.get("urn");
    if (!ref) throw new Problem(400, "Missing parameter", "give the reference as ?ref= or ?urn=");
    return jsonResponse(await ctx.runAction(internal.resolve.getBlock, { ref }));
  }),
});

// The human page: no token, and a private or still embargoed block is a 404 like a missing one,
// so its existence does not leak.
http.route({
  pathPrefix: "/blocks/",
  method: "GET",
  handler: httpAction(async (ctx, request) =>
    guarded(async () => {
      const id = pathSegment(request, "/blocks/");
      const block = await ctx.runQuery(api.blocks.publicBlock, { id });
      if (block === null) throw notFound(`block with id ${JSON.stringify(id)}`);
      const headers = { "Content-Type": "text/html; charset=utf-8" };
      return new Response(renderBlock(block), { status: 200, headers });
    }),
  ),
});

http.route({
  path: "/healthz",
  method: "GET",
  handler: httpAction(async (ctx) => {
    // Reads only the small outbox rows, up to a cap: it must answer during a long gateway outage.
    const pending = await ctx.runQuery(internal.outbox.pendingCount, {});
    const capped = pending.capped ? { pending_events_capped: true } : {};
    return jsonResponse({ status: "ok", pending_events: pending.count, ...capped });
  }),
});

// Anything else: a 404 problem rather than the router's plain-text answer.
for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
  http.route({
    pathPrefix: "/",
    method,
    handler: httpAction(async (_ctx, request) =>
      guarded(async () => {
        throw notFound(`route ${method} ${new URL(request.url).pathname}`);
      }),
    ),
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

function millis(time: string | null): number | null {
  return time === null ? null : Date.parse(time);
}

export default http;
