// The contract's routes come from the component; the notes API is this app's own.
import { http as h, registerRoutes } from "@kbfed/convex-federation";
import { httpRouter } from "convex/server";
import { z } from "zod";
import { components, internal } from "./_generated/api";
import { env, httpAction } from "./_generated/server";

const http = httpRouter();
registerRoutes(http, components.federation, {
  getBlock: internal.federation.getBlock,
  listBlocks: internal.federation.listBlocks,
});

const noteBody = z.strictObject({
  heading: z.string(),
  body: z.string().default(""),
  owner: z.string().default("notes-app"),
  sharing: z.enum(["team", "world"]).default("world"),
  seeAlso: z.array(z.string()).default([]),
});

// PUT /notes/{slug}: the app's own (token-guarded) way to write a note.
http.route({
  pathPrefix: "/notes/",
  method: "PUT",
  handler: httpAction(async (ctx, request) =>
    h.guarded(async () => {
      h.requireToken(request, env.BACKEND_TOKEN ?? "");
      const slug = h.pathSegment(request, "/notes/");
      const note = await h.readBody(request, noteBody);
      await ctx.runMutation(internal.notes.write, { slug, ...note });
      return h.jsonResponse(await ctx.runQuery(internal.federation.getBlock, { id: slug }));
    }),
  ),
});

export default http;
