// Global block names, `urn:block:<authority>:<percent-encoded local id>`, read exactly as the
// gateway reads them (federation/urn.py and federation/hosts.py `Host.canonical`): the
// authority is an ASCII `host[:port]` in lower case (IPv6 compressed, in brackets), the id keeps
// only RFC 3986 unreserved characters literal. Two spellings of one URN normalise to one string,
// so the cache and "what links here" find a block however a reference spelled it.

export const MAX_URN_LENGTH = 2048;
const PREFIX = "urn:block:";
const MAX_AUTHORITY = 260;
const MAX_NAME = 253;
const UNRESERVED = /^[A-Za-z0-9\-._~]+$/;
const ENCODED_ID = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=@/]|%[0-9A-Fa-f]{2})+$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const DOTTED_QUAD = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/;

/** A malformed URN, authority or local id; the message says what is wrong, like the gateway's. */
export class UrnError extends Error {}

/** Python's repr() of a string, so refusals read word for word like the gateway's. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const body = [...text]
    .map((c) => {
      if (c === "\\" || c === quote) return `\\${c}`;
      if (c === "\n") return "\\n";
      if (c === "\r") return "\\r";
      if (c === "\t") return "\\t";
      const code = c.codePointAt(0)!;
      return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c;
    })
    .join("");
  return quote + body + quote;
}
const preview = (text: string) => pyRepr([...text].slice(0, 64).join(""));

/** Percent-encodes a local id: unreserved characters stay, every other UTF-8 byte is %XX. */
export function encodeLocalId(localId: string): string {
  if (localId === "") throw new UrnError("a block's local id must be a non-empty string");
  if (UNRESERVED.test(localId)) return localId;
  try {
    // encodeURIComponent leaves !'()* literal; the gateway's encoding does not.
    return encodeURIComponent(localId).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  } catch {
    throw new UrnError("a block's local id must be valid Unicode (no lone surrogates)");
  }
}

export function decodeLocalId(encoded: string): string {
  if (!ENCODED_ID.test(encoded)) {
    throw new UrnError(`malformed local id ${pyRepr(encoded)}: empty, or bad character or %-escape`);
  }
  if (!encoded.includes("%")) return encoded;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === "%") {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(encoded.charCodeAt(i));
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    throw new UrnError(`local id ${pyRepr(encoded)} does not decode to UTF-8`);
  }
}

/** `host[:port]` in canonical form, lower-cased (IPv6 compressed), or a UrnError. */
export function normaliseAuthority(authority: string): string {
  // Checked before lower-casing: "\u212a".toLowerCase() is an ASCII "k".
  if (!/^[\x00-\x7f]*$/.test(authority)) {
    throw badHost(authority, "internationalised names must be in xn-- form");
  }
  const [name, hasPort, portText] = splitAuthority(authority);
  if (name.endsWith(".") || portText.startsWith("0")) throw badHost(authority, "not in canonical form");
  if (authority === "" || authority.length > MAX_AUTHORITY) throw badHost(authority, "empty or too long");
  let port = "";
  if (hasPort) {
    if (!/^[0-9]+$/.test(portText) || !(Number(portText) > 0 && Number(portText) < 65536)) {
      throw badHost(authority, "the port must be a number from 1 to 65535");
    }
    port = `:${Number(portText)}`;
  }
  return hostName(name) + port;
}

function splitAuthority(authority: string): [string, boolean, string] {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    if (end < 0) throw badHost(authority, "unclosed IPv6 bracket");
    const rest = authority.slice(end + 1);
    if (rest !== "" && !rest.startsWith(":")) throw badHost(authority, "text after the IPv6 address");
    return [authority.slice(0, end + 1), rest !== "", rest.slice(1)];
  }
  const colon = authority.indexOf(":");
  return colon < 0 ? [authority, false, ""] : [authority.slice(0, colon), true, authority.slice(colon + 1)];
}

function hostName(name: string): string {
  if (name.startsWith("[")) return ipv6(name);
  const last = name.slice(name.lastIndexOf(".") + 1);
  if (/^[0-9]+$/.test(last)) {
    // An all-numeric top label can only be an IPv4 address, in strict dotted-quad form.
    if (!DOTTED_QUAD.test(name) || name.split(".").some((octet) => Number(octet) > 255)) {
      throw new UrnError(`bad authority: bad host ${pyRepr(name)}: not an IPv4 address`);
    }
    return name;
  }
  const lower = name.toLowerCase();
  if (lower.length > MAX_NAME || !lower.split(".").every((label) => LABEL.test(label))) {
    throw new UrnError(
      `bad authority: bad host ${pyRepr(lower)}: not a DNS host name ` +
        "(letters, digits and inner hyphens, labels of 1 to 63 characters)",
    );
  }
  return lower;
}

function ipv6(bracketed: string): string {
  const refuse = () => new UrnError(`bad authority: bad host: ${pyRepr(bracketed)} is not a bracketed IPv6 address`);
  // Zone ids name an interface of one machine; URL parsing refuses them too.
  if (bracketed.includes("%") || !/^\[[0-9A-Fa-f:.]+\]$/.test(bracketed)) throw refuse();
  try {
    // The WHATWG URL parser writes IPv6 in RFC 5952 form, as Python's ipaddress does.
    return new URL(`http://${bracketed}/`).hostname;
  } catch {
    throw refuse();
  }
}

function badHost(authority: string, why: string): UrnError {
  return new UrnError(`bad authority: bad host ${pyRepr(authority)}: ${why}`);
}

export interface BlockUrn {
  authority: string;
  localId: string;
}

export function parseUrn(text: string): BlockUrn {
  if ([...text].length > MAX_URN_LENGTH) throw new UrnError(`URN longer than ${MAX_URN_LENGTH} characters`);
  if (text.slice(0, PREFIX.length).toLowerCase() !== PREFIX) {
    throw new UrnError(`not a block URN (expected 'urn:block:...'): ${preview(text)}`);
  }
  const rest = text.slice(PREFIX.length);
  const split = rest.lastIndexOf(":");
  if (split < 0) throw new UrnError(`block URN without a local id: ${preview(text)}`);
  const authority = normaliseAuthority(rest.slice(0, split));
  const localId = decodeLocalId(rest.slice(split + 1));
  encodeLocalId(localId); // validates: non-empty, encodable
  return { authority, localId };
}

export function formatUrn(urn: BlockUrn): string {
  return `${PREFIX}${urn.authority}:${encodeLocalId(urn.localId)}`;
}

/** The canonical string of any URN lexically equivalent to `text` (or a UrnError). */
export function normaliseUrn(text: string): string {
  return formatUrn(parseUrn(text));
}

/** Whether `text` is meant as a URN (then it must parse) rather than a local id. */
export function looksLikeUrn(text: string): boolean {
  return text.slice(0, 4).toLowerCase() === "urn:";
}
