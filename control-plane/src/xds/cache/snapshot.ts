// Turns translated resources into an immutable, encoded Snapshot. Each resource is
// encoded once per content: an unchanged resource keeps its bytes and version.
import { createHash } from 'node:crypto';
import { encodeMessage, type Json, type JsonObject } from '../encode.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, TYPE_URLS, type TypeUrl } from '../type-urls.js';
import { resourceName, type EnvoyResources } from '../../translate/resources.js';
import type { Resource, Snapshot, TypeSnapshot } from './types.js';

export function hash(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url').slice(0, 16);
}

const FIELDS: Record<TypeUrl, keyof EnvoyResources> = {
  [LISTENER]: 'listeners',
  [ROUTE]: 'routes',
  [CLUSTER]: 'clusters',
  [ENDPOINT]: 'endpoints',
  [SECRET]: 'secrets',
};

/**
 * Encodes resources, reusing the Resource of an earlier build when the content is the
 * same. Keep one encoder per pipeline: its memo is what makes a one-Ingress change cheap.
 */
interface Entry {
  /** A resource object with this content (resource objects are never mutated once built). */
  readonly value: JsonObject;
  readonly resource: Resource;
}

/** A name may carry different content in different groups (e.g. endpoints for gRPC clients). */
type Memo = Map<string, Entry[]>;

function find(memo: Memo, key: string, value: JsonObject): Entry | undefined {
  return memo.get(key)?.find((e) => sameJson(e.value, value));
}

/**
 * Whether two values have the same JSON text (what JSON.stringify gives), without making
 * it: keys in the same order, keys whose value is undefined left out. Shared sub-objects
 * (memoised virtual hosts) compare in O(1). It may answer false for two values of the same
 * text (NaN and null, say): that only costs an encoding.
 */
function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < ka.length && a[ka[i]!] === undefined) i++;
    while (j < kb.length && b[kb[j]!] === undefined) j++;
    if (i === ka.length || j === kb.length) return i === ka.length && j === kb.length;
    const k = ka[i]!;
    if (k !== kb[j] || !sameJson(a[k], b[k])) return false;
    i++;
    j++;
  }
}

export class SnapshotEncoder {
  /** Content memo: the entries made or found by content in the last build, by type and name. */
  private memo: Memo = new Map();
  /**
   * The entry of each resource object seen. Translation reuses objects for unchanged input
   * (memoised virtual hosts, reused clusters, endpoints, listeners…), and resource objects
   * are never mutated once built: the same object has the same content, so it is neither
   * compared nor encoded again. Weak: an object no longer translated takes its entry along.
   */
  private readonly entries = new WeakMap<object, Entry>();
  /**
   * Per group and type, the resource list of the last build (a copy of the array: the same
   * objects in the same order) and its type snapshot: a list of the same objects is the same
   * snapshot, found with one pointer comparison per resource.
   */
  private lists = new Map<string, { readonly list: readonly JsonObject[]; readonly snapshot: TypeSnapshot }>();

  build(resources: EnvoyResources): Snapshot {
    return this.buildGroups({ only: resources })['only']!;
  }

  /** Builds every group's snapshot in one pass: a resource shared by groups is encoded once. */
  buildGroups(groups: Readonly<Record<string, EnvoyResources>>): Record<string, Snapshot> {
    const next: Memo = new Map();
    const lists = new Map<string, { readonly list: readonly JsonObject[]; readonly snapshot: TypeSnapshot }>();
    const out: Record<string, Snapshot> = {};
    for (const [group, resources] of Object.entries(groups)) out[group] = this.buildOne(group, resources, next, lists);
    this.memo = next;
    this.lists = lists;
    return out;
  }

  private buildOne(group: string, resources: EnvoyResources, next: Memo, lists: Map<string, { readonly list: readonly JsonObject[]; readonly snapshot: TypeSnapshot }>): Snapshot {
    const types = {} as Record<TypeUrl, TypeSnapshot>;
    for (const typeUrl of TYPE_URLS) {
      const list = resources[FIELDS[typeUrl]];
      const listKey = `${group}\u0000${typeUrl}`;
      const prev = this.lists.get(listKey);
      if (prev && sameElements(prev.list, list)) {
        types[typeUrl] = prev.snapshot;
        lists.set(listKey, prev);
        continue;
      }
      const map = new Map<string, Resource>();
      for (const r of list) {
        const name = resourceName(r);
        if (map.has(name)) throw new Error(`duplicate ${typeUrl} resource name ${JSON.stringify(name)}`);
        let entry = this.entries.get(r);
        if (!entry || entry.resource.typeUrl !== typeUrl) {
          const key = `${typeUrl}\u0000${name}`;
          entry = find(next, key, r);
          if (!entry) {
            entry = find(this.memo, key, r);
            if (!entry) {
              if (typeUrl === ROUTE) {
                const { bytes, version } = this.encodeRouteConfiguration(r);
                entry = { value: r, resource: { typeUrl, name, version, bytes } };
              } else {
                const bytes = encodeMessage(typeUrl, r);
                entry = { value: r, resource: { typeUrl, name, version: hash(bytes), bytes } };
              }
            }
            const l = next.get(key);
            if (l) l.push(entry);
            else next.set(key, [entry]);
          }
          this.entries.set(r, entry);
        }
        map.set(name, entry.resource);
      }
      const snapshot = prev && sameResources(prev.snapshot.resources, map) ? prev.snapshot : typeSnapshot(map);
      types[typeUrl] = snapshot;
      lists.set(listKey, { list: [...list], snapshot });
    }
    return snapshotOf(types);
  }

  // A RouteConfiguration holds every virtual host (the `http` one: all of them), and a
  // changed Ingress changes a few. Virtual host objects are memoised by the translator, so
  // their bytes are memoised here by object, and the RouteConfiguration's are put together
  // from them: the same bytes protobufjs gives (it writes fields in field-number order:
  // name = 1, then each virtual_hosts = 2 as tag, length, VirtualHost bytes, then every
  // other field, all numbered above 2). Its version is a hash over the other fields' bytes
  // and each virtual host's own hash, so a change costs the changed hosts' encoding plus
  // one pass over the list (and the copy into one buffer), not a hash of every byte.
  private readonly vhostBytes = new WeakMap<object, { readonly bytes: Uint8Array; readonly tag: Uint8Array; readonly hash: string }>();

  private encodeRouteConfiguration(r: JsonObject): { bytes: Uint8Array; version: string } {
    const { name, virtual_hosts: vhosts, ...rest } = r;
    if (!Array.isArray(vhosts) || !vhosts.every(isPlainObject)) {
      const bytes = encodeMessage(ROUTE, r);
      return { bytes, version: hash(bytes) };
    }
    return routeConfigurationFromParts(encodeMessage(ROUTE, name === undefined ? {} : { name }), vhosts.map((vh) => this.vhost(vh)), encodeMessage(ROUTE, rest));
  }

  private vhost(vh: JsonObject): { readonly bytes: Uint8Array; readonly tag: Uint8Array; readonly hash: string } {
    let v = this.vhostBytes.get(vh);
    if (!v) {
      const bytes = encodeMessage(VIRTUAL_HOST, vh);
      v = { bytes, tag: lengthDelimitedTag(2, bytes.length), hash: hash(bytes) };
      this.vhostBytes.set(vh, v);
    }
    return v;
  }
}

/**
 * A RouteConfiguration's bytes from its parts (field 1; each VirtualHost; the other
 * fields), and its version: a hash over the parts' bytes and hashes. Two encodings of the
 * same content give the same version whatever memo they came from (unit-tested against
 * whole-message encoding).
 */
export function routeConfigurationFromParts(head: Uint8Array, vhosts: readonly { readonly bytes: Uint8Array; readonly tag: Uint8Array; readonly hash: string }[], tail: Uint8Array): { bytes: Uint8Array; version: string } {
  let size = head.length + tail.length;
  for (const v of vhosts) size += v.tag.length + v.bytes.length;
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  bytes.set(head, at);
  at += head.length;
  const h = createHash('sha256').update('RouteConfiguration\u0000').update(head).update('\u0000').update(tail).update('\u0000');
  // One update per 256 hashes: far fewer native calls than one per virtual host.
  let batch = '';
  let inBatch = 0;
  for (const v of vhosts) {
    bytes.set(v.tag, at);
    at += v.tag.length;
    bytes.set(v.bytes, at);
    at += v.bytes.length;
    batch += v.hash;
    if (++inBatch === 256) {
      h.update(batch);
      batch = '';
      inBatch = 0;
    }
  }
  if (batch) h.update(batch);
  bytes.set(tail, at);
  return { bytes, version: h.digest('base64url').slice(0, 16) };
}

const VIRTUAL_HOST = 'envoy.config.route.v3.VirtualHost';

function isPlainObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The key (field number, wire type 2) and the varint length that precede a length-delimited field. */
function lengthDelimitedTag(field: number, length: number): Uint8Array {
  const out: number[] = [(field << 3) | 2];
  let n = length;
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Uint8Array.from(out);
}

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameResources(a: ReadonlyMap<string, Resource>, b: ReadonlyMap<string, Resource>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, r] of b) if (a.get(name) !== r) return false;
  return true;
}

export function typeSnapshot(resources: Map<string, Resource>): TypeSnapshot {
  // Translation gives most types sorted already: check before sorting.
  let sortedAlready = true;
  let last: string | undefined;
  for (const name of resources.keys()) {
    if (last !== undefined && !(last < name)) {
      sortedAlready = false;
      break;
    }
    last = name;
  }
  const sorted = sortedAlready ? resources : new Map([...resources].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  // The same text as one update per name and version, in far fewer native calls.
  const h = createHash('sha256');
  let batch = '';
  let inBatch = 0;
  for (const [name, r] of sorted) {
    batch += `${name}\u0000${r.version}\u0000`;
    if (++inBatch === 512) {
      h.update(batch);
      batch = '';
      inBatch = 0;
    }
  }
  if (batch) h.update(batch);
  return { version: h.digest('base64url').slice(0, 16), resources: sorted };
}

export function snapshotOf(types: Record<TypeUrl, TypeSnapshot>): Snapshot {
  const h = createHash('sha256');
  for (const t of TYPE_URLS) h.update(t).update(types[t].version);
  return { version: h.digest('base64url').slice(0, 16), types };
}
