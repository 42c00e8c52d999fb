// A reference as getBlock reads it: a local id, a URN of our own instance (read as the local id),
// another instance's URN in normal form, or an error for that reference alone.
import { formatUrn, looksLikeUrn, normaliseAuthority, parseUrn, UrnError } from "./urn";

export type ParsedRef = { local: string } | { urn: string } | { invalid: string };

/** The normal form of INSTANCE_DOMAIN, or null when it is missing or malformed. */
export function ownAuthority(domain: string | undefined): string | null {
  try {
    return normaliseAuthority(domain ?? "");
  } catch {
    return null;
  }
}

export function parseRef(ref: string, own: string | null): ParsedRef {
  if (!looksLikeUrn(ref)) return ref === "" ? { invalid: "empty reference" } : { local: ref };
  try {
    const urn = parseUrn(ref);
    return urn.authority === own ? { local: urn.localId } : { urn: formatUrn(urn) };
  } catch (error) {
    if (!(error instanceof UrnError)) throw error;
    return { invalid: `malformed URN: ${error.message}` };
  }
}

/** Our own URN of a local id; null without a valid instance domain. */
export function ownUrn(localId: string, own: string | null): string | null {
  return own === null ? null : formatUrn({ authority: own, localId });
}
