// The example app's HTTP actions: the federation component's contract routes (registerRoutes),
// plus what is this app's own: the reference backend's management API (create/edit/delete
// blocks), so a Convex deployment is a drop-in for `federation backend serve`, and the human page.
import { http as h, registerRoutes } from "@kbfed/convex-federation";
import { httpRouter } from "convex/server";
import { api, components, internal } from "./_generated/api";
import { env, httpAction, type ActionCtx } from "./_generated/server";
import { blockCreateSchema, blockPatchSchema } from "./model/management";
import { renderBlock } from "./model/pages";

const BLOCKS = "/api/v1/blocks";
const http = httpRouter();

registerRoutes(http, components.federation, {
  getBlock: internal.blocks.get,
  listBlocks: internal.blocks.page,
  backendToken: () => env.BACKEND_TOKEN ?? "",
  instanceDomain: () => env.INSTANCE_DOMAIN ?? "",
});

type Handler = (ctx: ActionCtx, request: Request) => Promise<Response>;
/** An HTTP action behind the bearer token, whose errors leave as problem+json. */
const withToken = (handler: Handler) =>
  httpAction(async (ctx, request) =>
    h.guarded(async () => {
      h.requireToken(request, env.BACKEND_TOKEN ?? "");
      return await handler(ctx, request);
    }),
  );

http.route({
  path: BLOCKS,
  method: "POST",
  handler: withToken(async (ctx, request) => {
    const { embargo_until, ...fields } = await h.readBody(request, blockCreateSchema);
    const embargoUntil = fields.visibility === "embargoed" ? millis(embargo_until) : null;
    const block = await ctx.runMutation(internal.blocks.create, { ...fields, embargoUntil });
    if (block === null) throw new h.Problem(409, "Conflict", `a block with id ${JSON.stringify(fields.id)} exists`);
    return h.jsonResponse(block, 201, { Location: `${BLOCKS}/${encodeURIComponent(block.id)}` });
  }),
});

http.route({
  pathPrefix: `${BLOCKS}/`,
  method: "PATCH",
  handler: withToken(async (ctx, request) => {
    const id = h.pathSegment(request, `${BLOCKS}/`);
    const { embargo_until, ...patch } = await h.readBody(request, blockPatchSchema);
    const embargoUntil = embargo_until === undefined ? undefined : millis(embargo_until);
    const result = await ctx.runMutation(internal.blocks.edit, { id, ...patch, embargoUntil });
    if (result === "not_found") throw h.notFound(`block with id ${JSON.stringify(id)}`);
    if (result === "embargo_required") {
      throw h.invalidRequest([{ field: "embargo_until", message: "required when visibility is 'embargoed'" }]);
    }
    return h.jsonResponse(result);
  }),
});

http.route({
  pathPrefix: `${BLOCKS}/`,
  method: "DELETE",
  handler: withToken(async (ctx, request) => {
    const id = h.pathSegment(request, `${BLOCKS}/`);
    if (!(await ctx.runMutation(internal.blocks.remove, { id }))) throw h.notFound(`block with id ${JSON.stringify(id)}`);
    return new Response(null, { status: 204 });
  }),
});

// The human page: no token, and a private or still embargoed block is a 404 like a missing one,
// so its existence does not leak.
http.route({
  pathPrefix: "/blocks/",
  method: "GET",
  handler: httpAction(async (ctx, request) =>
    h.guarded(async () => {
      const id = h.pathSegment(request, "/blocks/");
      const block = await ctx.runQuery(api.blocks.publicBlock, { id });
      if (block === null) throw h.notFound(`block with id ${JSON.stringify(id)}`);
      const headers = { "Content-Type": "text/html; charset=utf-8" };
      return new Response(renderBlock(block), { status: 200, headers });
    }),
  ),
});

// Anything else: a 404 problem rather than the router's plain-text answer.
for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
  http.route({
    pathPrefix: "/",
    method,
    handler: httpAction(async (_ctx, request) =>
      h.guarded(async () => {
        throw h.notFound(`route ${method} ${new URL(request.url).pathname}`);
      }),
    ),
  });
}

function millis(time: string | null): number | null {
  return time === null ? null : Date.parse(time);
}

export default http;
