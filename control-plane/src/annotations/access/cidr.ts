// IP allow/deny list entries: comma-separated IPv4 / IPv6 addresses and CIDRs, parsed
// with a strict grammar (no zone ids, no leading zeros in IPv4 octets, no hostnames)
// and normalised to `network/prefix` (a plain address is a /32 or /128). Host bits set
// past the prefix (10.0.0.1/8) are cleared, as nginx and Envoy do, and reported back so
// the caller can warn.

export interface Cidr {
  /** The network address, canonical text (IPv6 compressed per RFC 5952). */
  readonly address: string;
  readonly prefixLen: number;
  readonly family: 4 | 6;
}

export type CidrResult =
  | { readonly ok: true; readonly cidr: Cidr; readonly hostBits: boolean }
  | { readonly ok: false; readonly why: string };

export type CidrListResult =
  | { readonly ok: true; readonly cidrs: readonly Cidr[]; readonly hostBits: readonly string[] }
  | { readonly ok: false; readonly why: string };

/** More entries than this in one list are refused (a value is untrusted input). */
export const MAX_CIDRS = 1000;

const V4_OCTET = /^(0|[1-9][0-9]{0,2})$/;

function parseV4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!V4_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6(s: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseV4(it);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
      out.push(parseInt(it, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  let words: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  const bytes: number[] = [];
  for (const w of words) bytes.push(w >> 8, w & 0xff);
  return bytes;
}

function formatV6(bytes: readonly number[]): string {
  // IPv4-mapped (::ffff:a.b.c.d) keeps its dotted tail (RFC 5952 section 5).
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.slice(12).join('.')}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (≥ 2) of zero words, the first one on a tie.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function mask(bytes: readonly number[], prefixLen: number): { masked: number[]; changed: boolean } {
  const masked = bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
  return { masked, changed: masked.some((b, i) => b !== bytes[i]) };
}

/** ASCII whitespace only (String.trim would also take NBSP and other Unicode spaces). */
function trimAscii(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}

/** One entry: `1.2.3.4`, `10.0.0.0/8`, `2001:db8::1`, `2001:db8::/32`. */
export function parseCidr(entry: string): CidrResult {
  const s = trimAscii(entry);
  if (s === '') return { ok: false, why: 'an empty entry' };
  if (s.length > 64) return { ok: false, why: `${JSON.stringify(s.slice(0, 64))}… is too long for an address` };
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const len = slash < 0 ? undefined : s.slice(slash + 1);
  const v4 = parseV4(addr);
  const bytes = v4 ?? parseV6(addr);
  if (!bytes) return { ok: false, why: `${JSON.stringify(s)} is not an IPv4 or IPv6 address or CIDR` };
  const family: 4 | 6 = v4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefixLen = max;
  if (len !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(len) || Number(len) > max) {
      return { ok: false, why: `${JSON.stringify(s)}: the prefix length must be a whole number from 0 to ${max}` };
    }
    prefixLen = Number(len);
  }
  const { masked, changed } = mask(bytes, prefixLen);
  const address = family === 4 ? masked.join('.') : formatV6(masked);
  return { ok: true, cidr: { address, prefixLen, family }, hostBits: changed };
}

export function cidrString(c: Cidr): string {
  return `${c.address}/${c.prefixLen}`;
}

/**
 * A comma-separated list. Every entry must parse; an empty value, an empty entry
 * (`a,,b`, a trailing comma) or more than MAX_CIDRS entries make the whole list invalid.
 * The result is sorted and without duplicates (deterministic output).
 */
export function parseCidrList(value: string): CidrListResult {
  if (trimAscii(value) === '') return { ok: false, why: 'the list is empty' };
  const entries = value.split(',');
  if (entries.length > MAX_CIDRS) return { ok: false, why: `more than ${MAX_CIDRS} entries` };
  const seen = new Map<string, Cidr>();
  const hostBits: string[] = [];
  for (const e of entries) {
    const r = parseCidr(e);
    if (!r.ok) return { ok: false, why: r.why };
    if (r.hostBits) hostBits.push(`${trimAscii(e)} is read as ${cidrString(r.cidr)}`);
    seen.set(cidrString(r.cidr), r.cidr);
  }
  const cidrs = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
  return { ok: true, cidrs, hostBits };
}
