// The version of a set of resources (a type's SotW `version_info`, a subscription's
// selection): a function of its (name, version) pairs alone, whatever their order.
//
// Each pair hashes to four 32-bit lanes; the set's lanes are the lane-wise sums mod 2^32
// (a multiset hash), with the count, and the version is a SHA-256 of those. A sum is kept
// with each type snapshot, so one changed resource among 16,000 costs subtracting its
// old pair and adding its new one, not a hash over every pair. Resource versions are
// content hashes already; the lanes only need to spread them, and 128 bits of sums make
// an accidental equal version of two different sets vanishingly unlikely.
import { hash } from 'node:crypto';

/** Lane sums and a count; never mutated once made (updates make a new one). */
export interface VersionSum {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly n: number;
}

export const EMPTY_SUM: VersionSum = { a: 0, b: 0, c: 0, d: 0, n: 0 };

/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

let la = 0;
let lb = 0;
let lc = 0;
let ld = 0;

/** The lanes of one pair, left in la…ld. */
function lanes(name: string, version: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  let c = 0x243f6a88;
  let d = 0x85a308d3;
  for (let i = 0; i < name.length; i++) {
    const x = name.charCodeAt(i);
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x5bd1e995);
    c = Math.imul((c + x) | 0, 0x27d4eb2d);
    d = Math.imul(d ^ x, 0x165667b1) + 0x7f4a7c15;
  }
  a = Math.imul(a ^ 0xff, 0x01000193);
  for (let i = 0; i < version.length; i++) {
    const x = version.charCodeAt(i);
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ x, 0x5bd1e995);
    c = Math.imul((c + x) | 0, 0x27d4eb2d);
    d = Math.imul(d ^ x, 0x165667b1) + 0x7f4a7c15;
  }
  const len = name.length + 1 + version.length;
  la = fmix(a ^ len);
  lb = fmix(b ^ Math.imul(len, 3));
  lc = fmix(c ^ fmix(a));
  ld = fmix((d ^ fmix(b)) >>> 0);
}

/** Lane sums being added up (mutable, internal). */
interface Acc {
  a: number;
  b: number;
  c: number;
  d: number;
  n: number;
}

/** Adds (sign 1) or takes out (sign -1) one pair. */
function accumulate(acc: Acc, name: string, version: string, sign: 1 | -1): void {
  lanes(name, version);
  acc.a = (acc.a + sign * la) >>> 0;
  acc.b = (acc.b + sign * lb) >>> 0;
  acc.c = (acc.c + sign * lc) >>> 0;
  acc.d = (acc.d + sign * ld) >>> 0;
  acc.n += sign;
}

/** The sum of a whole set. */
export function sumOf(pairs: Iterable<readonly [string, { readonly version: string }]>): VersionSum {
  const acc: Acc = { ...EMPTY_SUM };
  for (const [name, r] of pairs) accumulate(acc, name, r.version, 1);
  return acc;
}

/** `sum` with some pairs taken out and others put in. */
export function updatedSum(sum: VersionSum, removed: Iterable<readonly [string, string]>, added: Iterable<readonly [string, string]>): VersionSum {
  const acc: Acc = { ...sum };
  for (const [name, version] of removed) accumulate(acc, name, version, -1);
  for (const [name, version] of added) accumulate(acc, name, version, 1);
  return acc;
}

/** The version string of a sum (16 base64url characters, as resource versions). */
export function versionOfSum(s: VersionSum): string {
  // The prefix, then the lanes and the count: hashed in one shot (no Hash object).
  const buf = SUM_BYTES;
  const at = SUM_PREFIX_LENGTH;
  buf.writeUInt32BE(s.a, at);
  buf.writeUInt32BE(s.b, at + 4);
  buf.writeUInt32BE(s.c, at + 8);
  buf.writeUInt32BE(s.d, at + 12);
  buf.writeDoubleBE(s.n, at + 16);
  return hash('sha256', buf, 'base64url').slice(0, 16);
}

const SUM_PREFIX = Buffer.from('xgate-resource-set\u0000');
const SUM_PREFIX_LENGTH = SUM_PREFIX.length;
/** Scratch bytes for versionOfSum (the prefix written once). */
const SUM_BYTES = Buffer.concat([SUM_PREFIX, Buffer.alloc(24)]);
