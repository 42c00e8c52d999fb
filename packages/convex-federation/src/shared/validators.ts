// Convex validators of the contract's shapes, for typed function arguments, return values and
// stored documents (the zod schemas in contract.ts check what arrives over HTTP first).
import { v, type Infer } from "convex/values";

export const eventTypeV = v.union(
  v.literal("created"),
  v.literal("updated"),
  v.literal("deleted"),
  v.literal("visibility_changed"),
);
export type EventType = Infer<typeof eventTypeV>;

export const visibilityV = v.union(v.literal("public"), v.literal("private"), v.literal("embargoed"));

const blockFields = {
  id: v.string(),
  kind: v.string(),
  title: v.string(),
  content: v.string(),
  author: v.string(),
  visibility: visibilityV,
  embargo_until: v.union(v.string(), v.null()),
  created_at: v.string(),
  updated_at: v.string(),
  references: v.array(v.string()),
  url: v.union(v.string(), v.null()),
};

/** The contract's Block JSON. */
export const blockJsonV = v.object(blockFields);
export type BlockJson = Infer<typeof blockJsonV>;

/** A block of another instance as the gateway hands it over (unknown fields dropped). */
export const remoteBlockV = v.object({
  ...blockFields,
  urn: v.string(),
  origin: v.string(),
  object_url: v.string(),
});
export type RemoteBlockValue = Infer<typeof remoteBlockV>;

export const followV = v.object({
  direction: v.union(v.literal("following"), v.literal("follower")),
  actor: v.string(),
  domain: v.string(),
  state: v.union(v.literal("pending"), v.literal("accepted"), v.literal("rejected"), v.literal("undone")),
});

export const notificationV = v.object({
  id: v.string(),
  type: v.union(v.literal("remote_block.upsert"), v.literal("remote_block.delete"), v.literal("follow.changed")),
  urn: v.union(v.string(), v.null()),
  block: v.union(remoteBlockV, v.null()),
  follow: v.union(followV, v.null()),
});
export type NotificationValue = Infer<typeof notificationV>;

/** Only the fields the validator knows: zod lets unknown ones through, Convex would refuse them. */
export function remoteBlockValue(block: RemoteBlockValue): RemoteBlockValue {
  return {
    id: block.id,
    kind: block.kind,
    title: block.title,
    content: block.content,
    author: block.author,
    visibility: block.visibility,
    embargo_until: block.embargo_until,
    created_at: block.created_at,
    updated_at: block.updated_at,
    references: block.references,
    url: block.url,
    urn: block.urn,
    origin: block.origin,
    object_url: block.object_url,
  };
}

/** What the component's lookup answers for one URN. */
export const remoteLookupV = v.union(
  v.object({ urn: v.string(), status: v.literal("ok"), source: v.union(v.literal("cache"), v.literal("gateway")), block: remoteBlockV }),
  v.object({ urn: v.string(), status: v.union(v.literal("not_found"), v.literal("gone")), error: v.null() }),
  v.object({ urn: v.string(), status: v.literal("error"), error: v.string(), staleBlock: v.union(remoteBlockV, v.null()) }),
);
export type RemoteLookup = Infer<typeof remoteLookupV>;

/** What getBlock answers for one reference: the lookup plus the app's own blocks. */
export const blockLookupV = v.union(
  v.object({ ref: v.string(), status: v.literal("ok"), source: v.literal("local"), block: blockJsonV }),
  v.object({ ref: v.string(), status: v.literal("ok"), source: v.union(v.literal("cache"), v.literal("gateway")), block: remoteBlockV }),
  v.object({ ref: v.string(), status: v.union(v.literal("not_found"), v.literal("gone")), error: v.null() }),
  v.object({ ref: v.string(), status: v.literal("error"), error: v.string(), staleBlock: v.union(remoteBlockV, v.null()) }),
);
export type BlockLookup = Infer<typeof blockLookupV>;
