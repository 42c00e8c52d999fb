// The bounds the gateway holds every block to (federation/activities/block.py), held here at the
// door with the same limits and the same words: a block the gateway would refuse is refused when
// it is written, not found out later when its event is dropped and backfills fail on it.
import { encodeLocalId, looksLikeUrn, normaliseUrn, UrnError } from "./urn";

export const MAX_LOCAL_ID = 200;
export const MAX_TITLE_CHARS = 1000;
export const MAX_SHORT_TEXT = 1000; // kind, author, url
export const MAX_CONTENT_BYTES = 256 * 1024;
export const MAX_REFERENCES = 1000;
export const MAX_ENCODED_ID = 1024;

export type FieldError = {
  field: string;
  message: string;
};

/** Characters as Python counts them (code points, not UTF-16 units). */
export function codePoints(text: string): number {
  // A surrogate pair is two UTF-16 units and one code point.
  return text.length - (text.match(/[\ud800-\udbff][\udc00-\udfff]/g)?.length ?? 0);
}

export function utf8Bytes(text: string): number {
  // Cheap bound first: one UTF-16 unit is at most 3 UTF-8 bytes.
  return text.length * 3 <= MAX_CONTENT_BYTES ? text.length : new TextEncoder().encode(text).length;
}

const tooLong = (max: number) => `String should have at most ${max} characters`;

export function localIdError(id: string): string | null {
  if (id.length === 0) return "String should have at least 1 character";
  if (codePoints(id) > MAX_LOCAL_ID) return tooLong(MAX_LOCAL_ID);
  try {
    if (encodeLocalId(id).length > MAX_ENCODED_ID) {
      return `Value error, local id longer than ${MAX_ENCODED_ID} characters once encoded`;
    }
  } catch (error) {
    return `Value error, ${(error as Error).message}`;
  }
  return null;
}

/** A URN in its normal form, or a local id as given; a UrnError or a length error otherwise. */
export function normaliseReference(reference: string): string {
  if (looksLikeUrn(reference)) return normaliseUrn(reference);
  const problem = localIdError(reference);
  if (problem !== null) throw new UrnError(problem.replace(/^Value error, /, ""));
  return reference;
}

/**
 * The references in normal form, or the one error the gateway would give for the list. Like the
 * gateway, the first bad reference names the list ("references"), with what was wrong with it.
 */
export function checkReferences(
  references: string[],
): { references: string[]; error: null } | { references: null; error: FieldError } {
  if (references.length > MAX_REFERENCES) {
    const message = `List should have at most ${MAX_REFERENCES} items after validation, not ${references.length}`;
    return { references: null, error: { field: "references", message } };
  }
  try {
    return { references: references.map(normaliseReference), error: null };
  } catch (error) {
    const message = `Value error, bad reference: ${(error as Error).message}`;
    return { references: null, error: { field: "references", message } };
  }
}

export interface BoundedFields {
  id?: string;
  kind?: string;
  title?: string;
  content?: string;
  author?: string;
  url?: string | null;
}

/** Every bound a block's text fields break, in the gateway's words (empty when none). */
export function textFieldErrors(block: BoundedFields): FieldError[] {
  const errors: FieldError[] = [];
  const idError = block.id === undefined ? null : localIdError(block.id);
  if (idError !== null) errors.push({ field: "id", message: idError });
  const limits: [keyof BoundedFields, number][] = [
    ["kind", MAX_SHORT_TEXT],
    ["title", MAX_TITLE_CHARS],
    ["author", MAX_SHORT_TEXT],
    ["url", MAX_SHORT_TEXT],
  ];
  for (const [field, max] of limits) {
    const value = block[field];
    if (typeof value === "string" && codePoints(value) > max) errors.push({ field, message: tooLong(max) });
  }
  if (block.content !== undefined && utf8Bytes(block.content) > MAX_CONTENT_BYTES) {
    errors.push({ field: "content", message: `Value error, content larger than ${MAX_CONTENT_BYTES} bytes` });
  }
  return errors;
}

/** What a refused block carries: the gateway's 422 field errors. */
export type InvalidBlock = {
  code: "invalid_block";
  errors: FieldError[];
};

/**
 * The block's references in normal form when it holds every bound, else every field error. The
 * app calls this (through the client's `checkBlock`) before storing a block, so what it stores
 * is what federates; recordChange checks again.
 */
export function checkBlock(block: {
  id: string;
  kind: string;
  title: string;
  content: string;
  author: string;
  url: string | null;
  references: string[];
}): { references: string[] } | { errors: FieldError[] } {
  const errors = textFieldErrors(block);
  const refs = checkReferences(block.references);
  if (refs.error !== null) errors.push(refs.error);
  return errors.length > 0 || refs.references === null ? { errors } : { references: refs.references };
}
