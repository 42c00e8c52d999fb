// The component's client: what an app imports to federate its blocks.
//
//   // convex/convex.config.ts
//   import federation from "@kbfed/convex-federation/convex.config";
//   const app = defineApp();
//   app.use(federation, { env: { GATEWAY_URL: ..., BACKEND_TOKEN: ..., INSTANCE_DOMAIN: ... } });
//
//   // in each mutation that creates, edits or deletes a block (same transaction):
//   await recordChange(ctx, components.federation, { type: "created", blockId, block });
//
//   // convex/http.ts
//   registerRoutes(http, components.federation, { getBlock: internal.blocks.get, listBlocks: internal.blocks.page });
import { ConvexError } from "convex/values";
import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
  GenericActionCtx,
  GenericDataModel,
  GenericMutationCtx,
} from "convex/server";
import type * as inbound from "../component/inbound.js";
import type * as lib from "../component/lib.js";
import type * as outbox from "../component/outbox.js";
import type * as resolve from "../component/resolve.js";
import { checkBlock as check, type InvalidBlock } from "../shared/bounds";
import { ownAuthority, parseRef } from "../shared/refs";
import type { BlockJson, BlockLookup, EventType, RemoteLookup } from "../shared/validators";

export { registerRoutes, type RouteOptions, type BlockPage } from "./routes";
export * as http from "./http";
export { isoTime } from "../shared/contract";
export { MAX_CONTENT_BYTES, MAX_REFERENCES, MAX_TITLE_CHARS, type FieldError, type InvalidBlock } from "../shared/bounds";
export { normaliseUrn, encodeLocalId, UrnError } from "../shared/urn";
export { blockJsonV, blockLookupV, remoteBlockV, visibilityV } from "../shared/validators";
export type { BlockJson, BlockLookup, EventType, RemoteBlockValue } from "../shared/validators";

/** The component's functions as the app sees them (`components.federation`). */
export type ComponentApi = FilterApi<
  ApiFromModules<{ lib: typeof lib; outbox: typeof outbox; inbound: typeof inbound; resolve: typeof resolve }>,
  FunctionReference<"query" | "mutation" | "action", "public">
>;

type MutationCtx = Pick<GenericMutationCtx<GenericDataModel>, "runMutation">;
type ActionCtx = Pick<GenericActionCtx<GenericDataModel>, "runQuery" | "runAction">;

/**
 * A page stops at this many bytes read as well as at `limit` blocks (pass it as
 * `maximumBytesRead` when paginating the app's blocks): 200 blocks of 256 KiB would pass
 * Convex's 16 MiB read limit per transaction. The contract allows a short page.
 */
export const PAGE_MAX_BYTES = 8 * 1024 * 1024;

/**
 * The block's references in normal form, or a ConvexError naming every field the gateway would
 * refuse (`{code: "invalid_block", errors}`; registerRoutes answers it 422). Call it before
 * storing a block so that what the app stores is what federates.
 */
export function checkBlock(block: BlockJson): string[] {
  const result = check(block);
  if ("errors" in result) throw new ConvexError<InvalidBlock>({ code: "invalid_block", errors: result.errors });
  return result.references;
}

/** The error the app's listBlocks query throws for a cursor it did not hand out (a 400). */
export function invalidCursor(): ConvexError<{ code: "invalid_cursor" }> {
  return new ConvexError({ code: "invalid_cursor" as const });
}

/**
 * Checks a cursor of convex-helpers' paginator (the JSON index key of a page's last document)
 * against the index's key types, e.g. ["boolean", "number", "string"] for an index on one
 * boolean field (then _creationTime and _id); throws invalidCursor() when it does not fit.
 */
export function checkCursor(cursor: string | null, keyTypes: ("boolean" | "number" | "string")[]): void {
  if (cursor === null) return;
  let key: unknown;
  try {
    key = JSON.parse(cursor);
  } catch {
    throw invalidCursor();
  }
  const fits = Array.isArray(key) && key.length === keyTypes.length && key.every((k, i) => typeof k === keyTypes[i]);
  if (!fits) throw invalidCursor();
}

/**
 * Records one change of one of the app's blocks for the gateway, in the calling mutation's
 * transaction: `block` is the block after the change, null when deleted. Every change is
 * recorded, private blocks included (the gateway decides what leaves the instance).
 */
export async function recordChange(
  ctx: MutationCtx,
  component: ComponentApi,
  change: { type: EventType; blockId: string; block: BlockJson | null },
): Promise<string> {
  return await ctx.runMutation(component.lib.recordChange, change);
}

/**
 * getBlock for any references: local ids and our own URNs from the app's `getBlock` query,
 * other instances' URNs from the component (cache, then the gateway). Each answer is a value.
 */
export async function getBlocks(
  ctx: ActionCtx,
  component: ComponentApi,
  refs: string[],
  options: { getBlock: FunctionReference<"query", "internal" | "public", { id: string }, BlockJson | null>; instanceDomain?: string },
): Promise<BlockLookup[]> {
  const own = ownAuthority(options.instanceDomain ?? process.env.INSTANCE_DOMAIN);
  const parsed = refs.map((ref) => parseRef(ref, own));
  const urns = parsed.flatMap((p) => ("urn" in p ? [p.urn] : []));
  const remote = urns.length === 0 ? [] : await ctx.runAction(component.resolve.lookup, { urns });
  const byUrn = new Map<string, RemoteLookup>(remote.map((r) => [r.urn, r]));
  const out: BlockLookup[] = [];
  for (const [i, p] of parsed.entries()) {
    const ref = refs[i]!;
    if ("invalid" in p) out.push({ ref, status: "error", error: p.invalid, staleBlock: null });
    else if ("urn" in p) {
      const { urn: _urn, ...answer } = byUrn.get(p.urn)!;
      out.push({ ...answer, ref });
    } else {
      const block = await ctx.runQuery(options.getBlock, { id: p.local });
      out.push(block ? { ref, status: "ok", source: "local", block } : { ref, status: "not_found", error: null });
    }
  }
  return out;
}
