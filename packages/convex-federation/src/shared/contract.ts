// The shapes of docs/backend-contract.md as zod schemas: the HTTP actions validate every
// request body with them, and the reporter and resolver validate the gateway's answers.
import { z } from "zod";
import { checkReferences, textFieldErrors } from "./bounds";
import { looksLikeUrn, normaliseUrn, UrnError } from "./urn";

export const MAX_PAGE_LIMIT = 200;
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_RESOLVE_BATCH = 500;
export const MAX_NOTIFICATION_BATCH = 256;

const time = z.iso.datetime({ offset: true });
// Lengths are the bounds' business (model/bounds.ts): they count as the gateway counts.
const localId = z.string().min(1);
export const visibility = z.enum(["public", "private", "embargoed"]);

const embargoRule = (b: { visibility?: string; embargo_until?: string | null }) =>
  b.visibility !== "embargoed" || (b.embargo_until ?? null) !== null;
const embargoMessage = {
  message: "embargo_until is required when visibility is 'embargoed'",
  path: ["embargo_until"],
};

const blockShape = {
    id: localId,
    kind: z.string(),
    title: z.string(),
    content: z.string(),
    author: z.string(),
    visibility,
    embargo_until: time.nullable().default(null),
    created_at: time,
    updated_at: time,
    references: z.array(z.string()).default([]),
    url: z.string().nullable().default(null),
};
export const blockSchema = z.object(blockShape).refine(embargoRule, embargoMessage);

/** The gateway's bounds on a block it hands over; its references must all be URNs. */
function remoteBounds(block: z.infer<z.ZodObject<typeof blockShape>> & { urn: string }, ctx: z.RefinementCtx) {
  const issue = (field: string, message: string) => ctx.addIssue({ code: "custom", message, path: [field] });
  for (const error of textFieldErrors(block)) issue(error.field, error.message);
  const refs = checkReferences(block.references);
  if (refs.error !== null) issue(refs.error.field, refs.error.message);
  else if (!block.references.every(looksLikeUrn)) issue("references", "Value error, a remote block's references must all be URNs");
  try {
    if (normaliseUrn(block.urn) !== block.urn) issue("urn", "Value error, the URN is not in its normal form");
  } catch (error) {
    if (!(error instanceof UrnError)) throw error;
    issue("urn", `Value error, ${error.message}`);
  }
}

export const remoteBlockSchema = z
  .object({
    ...blockShape,
    urn: z.string(),
    origin: z.string(),
    object_url: z.string(),
  })
  .superRefine(remoteBounds)
  .refine(embargoRule, embargoMessage)
  // Unknown fields are ignored, as the gateway does with ours; references in normal form.
  .transform((block) => ({ ...block, references: block.references.map(normaliseUrn) }));
export type RemoteBlock = z.infer<typeof remoteBlockSchema>;

export const followSchema = z.object({
  direction: z.enum(["following", "follower"]),
  actor: z.string(),
  domain: z.string(),
  state: z.enum(["pending", "accepted", "rejected", "undone"]),
});

export const inboundSchema = z
  .object({
    id: z.string().min(1).max(500),
    type: z.enum(["remote_block.upsert", "remote_block.delete", "follow.changed"]),
    urn: z.string().nullable().default(null),
    block: remoteBlockSchema.nullable().default(null),
    follow: followSchema.nullable().default(null),
  })
  .superRefine((note, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: "custom", message, path: [] });
    if (note.type === "remote_block.upsert") {
      if (note.block === null || note.urn === null) fail("remote_block.upsert needs 'urn' and 'block'");
      else if (note.block.urn !== note.urn) fail("block.urn must equal urn");
    } else if (note.type === "remote_block.delete") {
      if (note.urn === null) fail("remote_block.delete needs 'urn'");
    } else if (note.follow === null) {
      fail("follow.changed needs 'follow'");
    }
  });
export type InboundNotification = z.infer<typeof inboundSchema>;
/** POST /api/v1/inbound with an array: named `items`, as the reference backend names them. */
export const inboundBatchSchema = z.object({
  items: z.array(inboundSchema).min(1).max(MAX_NOTIFICATION_BATCH),
});

export const resolveResultSchema = z.object({
  urn: z.string(),
  status: z.enum(["ok", "gone", "not_found", "error"]),
  block: remoteBlockSchema.nullable().default(null),
  error: z.string().nullable().default(null),
  cached: z.boolean().default(false),
});
export type ResolveResult = z.infer<typeof resolveResultSchema>;
export const resolveBatchSchema = z.object({ results: z.array(resolveResultSchema) });

export function isoTime(ms: number): string;
export function isoTime(ms: number | null): string | null;
export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace(".000Z", "Z");
}

/** Field errors in the contract's 422 shape: a dotted path, "(body)" for whole-body rules. */
export function fieldErrors(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(body)",
    message: issue.message,
  }));
}
