// The human page of a block (GET /blocks/{id}), like the reference backend's.
import type { BlockJson } from "@kbfed/convex-federation";

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" };
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c]!);

export function renderBlock(block: BlockJson): string {
  const refs = block.references.map((ref) => `<li>${escape(ref)}</li>`).join("");
  return (
    "<!doctype html>\n<html><head><meta charset='utf-8'>" +
    `<title>${escape(block.title)}</title></head><body>\n` +
    `<article><h1>${escape(block.title)}</h1>\n` +
    `<p class='meta'>${escape(block.kind)} by ${escape(block.author)}, ` +
    `updated ${escape(block.updated_at)}</p>\n` +
    `<div class='content' style='white-space: pre-wrap'>${escape(block.content)}</div>\n` +
    `<ul class='references'>${refs}</ul></article>\n</body></html>\n`
  );
}
