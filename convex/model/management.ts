// The reference backend's management API (POST and PATCH /api/v1/blocks), which this example app
// serves too so that it is a drop-in for `federation backend serve`. Lengths and references are
// the component's checkBlock's business: it counts as the gateway counts.
import { z } from "zod";

const time = z.iso.datetime({ offset: true });
const visibility = z.enum(["public", "private", "embargoed"]);

export const blockCreateSchema = z
  .strictObject({
    id: z.string().min(1).nullable().default(null),
    kind: z.string().default("note"),
    title: z.string(),
    content: z.string().default(""),
    author: z.string().nullable().default(null),
    visibility: visibility.default("public"),
    embargo_until: time.nullable().default(null),
    references: z.array(z.string()).default([]),
    url: z.string().nullable().default(null),
  })
  .refine((b) => b.visibility !== "embargoed" || b.embargo_until !== null, {
    message: "embargo_until is required when visibility is 'embargoed'",
    path: ["embargo_until"],
  });

export const blockPatchSchema = z.strictObject({
  title: z.string().optional(),
  content: z.string().optional(),
  kind: z.string().optional(),
  references: z.array(z.string()).optional(),
  visibility: visibility.optional(),
  embargo_until: time.nullable().optional(),
});
