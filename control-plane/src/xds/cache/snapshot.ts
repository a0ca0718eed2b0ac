// Turns translated resources into an immutable, encoded Snapshot. Each resource is
// encoded once per content: an unchanged resource keeps its bytes and version.
import { createHash, hash as cryptoHash } from 'node:crypto';
import { encodeMessage, withSharedAnys, type Json, type JsonObject } from '../encode.js';
import { ROUTE, TYPE_URLS, type TypeUrl } from '../type-urls.js';
import { resourceName, resourcesOf, type EnvoyResources } from '../../translate/resources.js';
import type { Resource, Snapshot, TypeSnapshot } from './types.js';
import { sumOf, updatedSum, versionOfSum, type VersionSum } from './type-version.js';

export function hash(data: string | Uint8Array): string {
  // crypto.hash: the one-shot form (Node ≥ 20.12), the same digest without a Hash object
  // per call (~35 % faster for the ~40k small resources of a full build at 10k).
  return cryptoHash('sha256', data, 'base64url').slice(0, 16);
}


/**
 * Encodes resources, reusing the Resource of an earlier build when the content is the
 * same. Keep one encoder per pipeline: its memo is what makes a one-Ingress change cheap.
 * Resource objects and lists given to it must not be mutated afterwards (translation
 * never does): the same object or array is taken to have the same content.
 */
interface Entry {
  /** A resource object with this content (resource objects are never mutated once built). */
  readonly value: JsonObject;
  readonly resource: Resource;
}

/** A name may carry different content in different groups (e.g. endpoints for gRPC clients). */
type Memo = Map<TypeUrl, Map<string, Entry[]>>;

function find(memo: Memo, typeUrl: TypeUrl, name: string, value: JsonObject): Entry | undefined {
  const list = memo.get(typeUrl)?.get(name);
  if (list === undefined) return undefined;
  for (const e of list) if (sameJson(e.value, value)) return e;
  return undefined;
}

/** Adds an entry to the memo under its type and name (by type first: no key string made per resource). */
function remember(memo: Memo, typeUrl: TypeUrl, name: string, entry: Entry): void {
  let byName = memo.get(typeUrl);
  if (!byName) memo.set(typeUrl, (byName = new Map()));
  const list = byName.get(name);
  if (list) list.push(entry);
  else byName.set(name, [entry]);
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

/** A type's list as last encoded for a group: the list, its Resources (same order) and its type snapshot. */
interface ListState {
  /** Resource lists are never mutated once built: the same array is the same list. */
  readonly list: readonly JsonObject[];
  readonly resources: readonly Resource[];
  readonly snapshot: TypeSnapshot;
}

/** A RouteConfiguration's virtual hosts as encoded (the base of the next encoding of its successor). */
interface RouteParts {
  readonly vhosts: readonly Json[];
  readonly parts: readonly VhostPart[];
  /** The multiset sum of the parts' hashes (see routeConfigurationVersion). */
  readonly sum: VersionSum;
}

interface VhostPart {
  readonly bytes: Uint8Array;
  readonly tag: Uint8Array;
  readonly hash: string;
}

/** How far ahead in the last list an element is looked for (elements removed in between). */
const LOOKAHEAD = 8;

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
   * Per group and type, the resource list of the last build, its Resources and its type
   * snapshot. A new list is compared with it object by object, in order: the Resources of
   * the same objects are taken as they are, only the others are looked up (or encoded),
   * and the type snapshot is the last one with those changes (see ResourceView).
   */
  private lists = new Map<string, ListState>();
  /** The virtual host parts of each RouteConfiguration encoded from them (by object). */
  private readonly routeParts = new WeakMap<object, RouteParts>();

  build(resources: EnvoyResources): Snapshot {
    return this.buildGroups({ only: resources })['only']!;
  }

  /** Builds every group's snapshot in one pass: a resource shared by groups is encoded once. */
  buildGroups(groups: Readonly<Record<string, EnvoyResources>>): Record<string, Snapshot> {
    // Resource objects are not mutated once built: an Any object shared by several of them
    // (the per-route filter config of an Ingress's routes) is written once per build.
    return withSharedAnys(() => this.buildAll(groups));
  }

  private buildAll(groups: Readonly<Record<string, EnvoyResources>>): Record<string, Snapshot> {
    const next: Memo = new Map();
    const lists = new Map<string, ListState>();
    const out: Record<string, Snapshot> = {};
    for (const [group, resources] of Object.entries(groups)) out[group] = this.buildOne(group, resources, next, lists);
    this.memo = next;
    this.lists = lists;
    return out;
  }

  private buildOne(group: string, resources: EnvoyResources, next: Memo, lists: Map<string, ListState>): Snapshot {
    const types = {} as Record<TypeUrl, TypeSnapshot>;
    for (const typeUrl of TYPE_URLS) {
      const list = resourcesOf(resources, typeUrl);
      const listKey = `${group}\u0000${typeUrl}`;
      const prev = this.lists.get(listKey);
      const state = prev === undefined ? this.fullList(typeUrl, list, next) : prev.list === list ? prev : this.updatedList(typeUrl, prev, list, next);
      lists.set(listKey, state);
      types[typeUrl] = state.snapshot;
    }
    return snapshotOf(types);
  }

  /** A list encoded from scratch (the memos still apply). */
  private fullList(typeUrl: TypeUrl, list: readonly JsonObject[], next: Memo): ListState {
    const map = new Map<string, Resource>();
    const resources = new Array<Resource>(list.length);
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      const name = resourceName(r);
      const resource = this.resourceOf(typeUrl, r, name, next, undefined);
      // A name met before leaves the size as it was (one lookup, not a check and a store).
      const size = map.size;
      map.set(name, resource);
      if (map.size === size) throw duplicate(typeUrl, name);
      resources[i] = resource;
    }
    return { list, resources, snapshot: typeSnapshot(map) };
  }

  /** A list encoded from the last one: the same objects keep their Resources; the type snapshot is updated with what changed. */
  private updatedList(typeUrl: TypeUrl, prev: ListState, list: readonly JsonObject[], next: Memo): ListState {
    const old = prev.list;
    const resources = new Array<Resource>(list.length);
    const removed: number[] = [];
    const added: number[] = [];
    let j = 0;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      let k = j;
      const end = Math.min(old.length, j + LOOKAHEAD);
      while (k < end && old[k] !== r) k++;
      if (k < end) {
        for (let s = j; s < k; s++) removed.push(s);
        resources[i] = prev.resources[k]!;
        j = k + 1;
      } else added.push(i);
    }
    for (let s = j; s < old.length; s++) removed.push(s);
    if (removed.length === 0 && added.length === 0) return { list, resources: prev.resources, snapshot: prev.snapshot };
    // A changed RouteConfiguration is encoded from the virtual hosts of the one it replaces.
    const replaced = typeUrl === ROUTE && removed.length ? new Map(removed.map((s) => [prev.resources[s]!.name, old[s]!])) : undefined;
    const changes = new Map<string, Resource | null>();
    for (const s of removed) changes.set(prev.resources[s]!.name, null);
    for (const i of added) {
      const r = list[i]!;
      const name = resourceName(r);
      const was = changes.get(name);
      if (was || (was === undefined && prev.snapshot.resources.has(name))) throw duplicate(typeUrl, name);
      const resource = this.resourceOf(typeUrl, r, name, next, replaced?.get(name));
      resources[i] = resource;
      changes.set(name, resource);
    }
    for (const [name, r] of changes) if (r !== null && prev.snapshot.resources.get(name) === r) changes.delete(name);
    return { list, resources, snapshot: changes.size ? updatedTypeSnapshot(prev.snapshot, changes) : prev.snapshot };
  }

  /** The Resource of a resource object: by object, then by content, else encoded (a RouteConfiguration from `base`'s parts). */
  private resourceOf(typeUrl: TypeUrl, r: JsonObject, name: string, next: Memo, base: JsonObject | undefined): Resource {
    let entry = this.entries.get(r);
    if (!entry || entry.resource.typeUrl !== typeUrl) {
      entry = find(next, typeUrl, name, r);
      if (!entry) {
        entry = find(this.memo, typeUrl, name, r);
        if (entry) {
          // An equal RouteConfiguration: its parts are this one's (equal virtual hosts have the same bytes).
          const parts = typeUrl === ROUTE ? this.routeParts.get(entry.value) : undefined;
          if (parts && Array.isArray(r['virtual_hosts'])) this.routeParts.set(r, { vhosts: r['virtual_hosts'], parts: parts.parts, sum: parts.sum });
        } else {
          if (typeUrl === ROUTE) {
            const { parts, version } = this.encodeRouteConfiguration(r, base);
            entry = { value: r, resource: partsResource(typeUrl, name, version, parts) };
          } else {
            const bytes = encodeMessage(typeUrl, r);
            entry = { value: r, resource: { typeUrl, name, version: hash(bytes), bytes } };
          }
        }
        remember(next, typeUrl, name, entry);
      }
      this.entries.set(r, entry);
    }
    return entry.resource;
  }

  // A RouteConfiguration holds every virtual host (the `http` one: all of them), and a
  // changed Ingress changes a few. Virtual host objects are memoised by the translator, so
  // their bytes are memoised here by object, and the RouteConfiguration's are put together
  // from them: the same bytes protobufjs gives (it writes fields in field-number order:
  // name = 1, then each virtual_hosts = 2 as tag, length, VirtualHost bytes, then every
  // other field, all numbered above 2). Its version is a hash over the other fields' bytes
  // and a multiset sum of the virtual hosts' own hashes (type-version.ts), kept with the
  // parts: a change costs the changed hosts' encoding, their hashes taken out of and put
  // into the sum, and one pass over the list, not a hash over every host. The parts of the
  // RouteConfiguration it replaces are taken by position for the same virtual host
  // objects, so the pass is a pointer comparison per host. An order-free sum is enough:
  // translation sorts virtual hosts by name, and names are unique in a RouteConfiguration,
  // so the set of hosts decides the order.
  private readonly vhostBytes = new WeakMap<object, VhostPart>();

  private encodeRouteConfiguration(r: JsonObject, base: JsonObject | undefined): { parts: readonly Uint8Array[]; version: string } {
    const { name, virtual_hosts: vhosts, ...rest } = r;
    if (!Array.isArray(vhosts)) return wholeRouteConfiguration(r);
    const before = base && this.routeParts.get(base);
    const prev = before?.vhosts ?? [];
    const prevParts = before?.parts ?? [];
    const parts = new Array<VhostPart>(vhosts.length);
    const removed: [string, string][] = [];
    const added: [string, string][] = [];
    let j = 0;
    for (let i = 0; i < vhosts.length; i++) {
      const vh = vhosts[i];
      let k = j;
      const end = Math.min(prev.length, j + LOOKAHEAD);
      while (k < end && prev[k] !== vh) k++;
      if (k < end) {
        for (let s = j; s < k; s++) removed.push(['', prevParts[s]!.hash]);
        parts[i] = prevParts[k]!;
        j = k + 1;
      } else if (isPlainObject(vh)) {
        parts[i] = this.vhost(vh);
        added.push(['', parts[i]!.hash]);
      } else return wholeRouteConfiguration(r);
    }
    for (let s = j; s < prev.length; s++) removed.push(['', prevParts[s]!.hash]);
    const sum = before ? updatedSum(before.sum, removed, added) : sumOf(parts.map((p) => ['', { version: p.hash }] as const));
    this.routeParts.set(r, { vhosts, parts, sum });
    const head = encodeMessage(ROUTE, name === undefined ? {} : { name });
    const tail = encodeMessage(ROUTE, rest);
    return { version: routeConfigurationVersion(head, sum, tail), parts: routeConfigurationParts(head, parts, tail) };
  }

  private vhost(vh: JsonObject): VhostPart {
    let v = this.vhostBytes.get(vh);
    if (!v) {
      const bytes = encodeMessage(VIRTUAL_HOST, vh);
      v = { bytes, tag: lengthDelimitedTag(2, bytes.length), hash: hash(bytes) };
      this.vhostBytes.set(vh, v);
    }
    return v;
  }
}

function wholeRouteConfiguration(r: JsonObject): { parts: readonly Uint8Array[]; version: string } {
  const bytes = encodeMessage(ROUTE, r);
  return { parts: [bytes], version: hash(bytes) };
}

/**
 * A Resource whose bytes are the concatenation of `parts`, put together only when read.
 * A RouteConfiguration's bytes are a copy of every virtual host's (the `http` one: all of
 * them, megabytes at 10,000 Ingresses): the response bodies write the parts straight into
 * their own buffer (server/body-writer.ts: byteLength and writeTo), so the server never
 * makes that copy, and a snapshot no stream sends never pays for it. Its version is known
 * without them.
 */
function partsResource(typeUrl: TypeUrl, name: string, version: string, parts: readonly Uint8Array[]): Resource & { readonly byteLength: number; writeTo(buf: Uint8Array, at: number): number } {
  if (parts.length === 1) return { typeUrl, name, version, bytes: parts[0]!, byteLength: parts[0]!.length, writeTo: (buf, at) => (buf.set(parts[0]!, at), at + parts[0]!.length) };
  let bytes: Uint8Array | undefined;
  let byteLength = 0;
  for (const p of parts) byteLength += p.length;
  return {
    typeUrl,
    name,
    version,
    byteLength,
    get bytes(): Uint8Array {
      return (bytes ??= Buffer.concat(parts as Uint8Array[], byteLength));
    },
    writeTo(buf: Uint8Array, at: number): number {
      if (bytes) {
        buf.set(bytes, at);
        return at + bytes.length;
      }
      for (const p of parts) {
        const n = p.length;
        // A virtual host's tag and length are 2–4 bytes: a loop is cheaper than set() there.
        if (n < 16) for (let i = 0; i < n; i++) buf[at + i] = p[i]!;
        else buf.set(p, at);
        at += n;
      }
      return at;
    },
  };
}

function duplicate(typeUrl: TypeUrl, name: string): Error {
  return new Error(`duplicate ${typeUrl} resource name ${JSON.stringify(name)}`);
}

/**
 * A RouteConfiguration's bytes from its parts (field 1; each VirtualHost; the other
 * fields), and its version: a hash over the other fields' bytes and the multiset sum of
 * the parts' hashes. Two encodings of the same content give the same version whatever
 * memo they came from (unit-tested against whole-message encoding).
 */
export function routeConfigurationFromParts(head: Uint8Array, vhosts: readonly VhostPart[], tail: Uint8Array): { bytes: Uint8Array; version: string } {
  const sum = sumOf(vhosts.map((p) => ['', { version: p.hash }] as const));
  return { bytes: routeConfigurationBytes(head, vhosts, tail), version: routeConfigurationVersion(head, sum, tail) };
}

function routeConfigurationBytes(head: Uint8Array, vhosts: readonly VhostPart[], tail: Uint8Array): Uint8Array {
  return Buffer.concat(routeConfigurationParts(head, vhosts, tail) as Uint8Array[]);
}

/** The parts of a RouteConfiguration's bytes in order: field 1, each VirtualHost's tag and length then bytes, the other fields. */
function routeConfigurationParts(head: Uint8Array, vhosts: readonly VhostPart[], tail: Uint8Array): readonly Uint8Array[] {
  const list = new Array<Uint8Array>(2 * vhosts.length + 2);
  let i = 0;
  list[i++] = head;
  for (const v of vhosts) {
    list[i++] = v.tag;
    list[i++] = v.bytes;
  }
  list[i] = tail;
  return list;
}

const RC_PREFIX = Buffer.from('RouteConfiguration\u0000');
const NUL = Buffer.from('\u0000');

function routeConfigurationVersion(head: Uint8Array, sum: VersionSum, tail: Uint8Array): string {
  // One-shot over the concatenation: the digest of the streamed parts, without a Hash object.
  return cryptoHash('sha256', Buffer.concat([RC_PREFIX, head, NUL, tail, NUL, Buffer.from(versionOfSum(sum))]), 'base64url').slice(0, 16);
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
  const sorted = sortedAlready ? resources : new Map([...resources].sort(([a], [b]) => compareNames(a, b)));
  const sum = sumOf(sorted);
  sums.set(sorted, sum);
  return { version: versionOfSum(sum), resources: sorted };
}

/** The version sum of each type snapshot's resource map (type-version.ts). */
const sums = new WeakMap<ReadonlyMap<string, Resource>, VersionSum>();

function sumFor(resources: ReadonlyMap<string, Resource>): VersionSum {
  let s = sums.get(resources);
  if (!s) sums.set(resources, (s = sumOf(resources)));
  return s;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The last type snapshot with some resources set (a Resource) or removed (null); its version from the last one's sum. */
function updatedTypeSnapshot(prev: TypeSnapshot, changes: ReadonlyMap<string, Resource | null>): TypeSnapshot {
  const resources = ResourceView.of(prev.resources, changes);
  const removed: [string, string][] = [];
  const added: [string, string][] = [];
  for (const [name, r] of changes) {
    const old = prev.resources.get(name);
    if (old) removed.push([name, old.version]);
    if (r) added.push([name, r.version]);
  }
  const sum = updatedSum(sumFor(prev.resources), removed, added);
  sums.set(resources, sum);
  return { version: versionOfSum(sum), resources };
}

/**
 * The names whose version differs between two resource maps of one type's snapshots, in
 * name order, when this module can tell from what it kept (successive snapshots share a
 * base map); undefined when a whole comparison is needed.
 */
export function changedNamesOf(from: ReadonlyMap<string, Resource>, to: ReadonlyMap<string, Resource>): string[] | undefined {
  return ResourceView.changedNames(from, to);
}

/** Changes kept on top of a base map before a new map is made (a copy costs a pass over every resource). */
const MAX_OVERLAY = 256;

/**
 * A type's resources by name, in name order, as a sorted base map (never mutated) and the
 * changes made on top of it: a change among many resources does not copy the map. When the
 * changes grow past MAX_OVERLAY, they are folded into a new base map.
 */
class ResourceView implements ReadonlyMap<string, Resource> {
  private constructor(
    /** Sorted by name. */
    private readonly base: ReadonlyMap<string, Resource>,
    /** Name → its Resource now, or null when removed from base. */
    private readonly changes: ReadonlyMap<string, Resource | null>,
    /** The changed names that are in base, sorted. */
    private readonly replaced: readonly string[],
    /** The changed names that are not in base (added), sorted. */
    private readonly added: readonly string[],
    readonly size: number,
  ) {}

  /** `map` (sorted by name) with `changes` applied. */
  static of(map: ReadonlyMap<string, Resource>, changes: ReadonlyMap<string, Resource | null>): ReadonlyMap<string, Resource> {
    let base = map;
    let all: Map<string, Resource | null>;
    if (map instanceof ResourceView) {
      base = map.base;
      all = new Map(map.changes);
      for (const [name, r] of changes) all.set(name, r);
    } else all = new Map(changes);
    let size = base.size;
    const replaced: string[] = [];
    const added: string[] = [];
    for (const [name, r] of [...all]) {
      const inBase = base.get(name);
      if (inBase !== undefined) {
        if (r === inBase) all.delete(name);
        else {
          replaced.push(name);
          if (r === null) size--;
        }
      } else if (r === null) all.delete(name);
      else {
        added.push(name);
        size++;
      }
    }
    const view = new ResourceView(base, all, replaced.sort(compareNames), added.sort(compareNames), size);
    return all.size > MAX_OVERLAY ? new Map(view) : view;
  }

  /**
   * The names whose version differs between two maps (added, changed or removed), in name
   * order, when both are views over the same base map (or the base itself): only their
   * changes can differ. undefined when they are not.
   */
  static changedNames(from: ReadonlyMap<string, Resource>, to: ReadonlyMap<string, Resource>): string[] | undefined {
    const fromBase = from instanceof ResourceView ? from.base : from;
    const toBase = to instanceof ResourceView ? to.base : to;
    if (fromBase !== toBase) return undefined;
    const candidates = new Set<string>();
    if (from instanceof ResourceView) for (const name of from.changes.keys()) candidates.add(name);
    if (to instanceof ResourceView) for (const name of to.changes.keys()) candidates.add(name);
    const out: string[] = [];
    for (const name of candidates) if (from.get(name)?.version !== to.get(name)?.version) out.push(name);
    return out.sort(compareNames);
  }

  get(name: string): Resource | undefined {
    const r = this.changes.get(name);
    if (r !== undefined) return r ?? undefined;
    return this.base.get(name);
  }

  has(name: string): boolean {
    const r = this.changes.get(name);
    if (r !== undefined) return r !== null;
    return this.base.has(name);
  }

  *entries(): MapIterator<[string, Resource]> {
    const { replaced, added, changes } = this;
    let p = 0;
    let q = 0;
    for (const [name, r] of this.base) {
      while (q < added.length && added[q]! < name) {
        const a = added[q++]!;
        yield [a, changes.get(a)!];
      }
      if (p < replaced.length && replaced[p] === name) {
        p++;
        const c = changes.get(name)!;
        if (c !== null) yield [name, c];
      } else yield [name, r];
    }
    while (q < added.length) {
      const a = added[q++]!;
      yield [a, changes.get(a)!];
    }
  }

  *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): MapIterator<Resource> {
    for (const [, r] of this.entries()) yield r;
  }

  [Symbol.iterator](): MapIterator<[string, Resource]> {
    return this.entries();
  }

  forEach(f: (value: Resource, key: string, map: ReadonlyMap<string, Resource>) => void, thisArg?: unknown): void {
    for (const [name, r] of this.entries()) f.call(thisArg, r, name, this);
  }

  /** As the admin API shows a Map. */
  toJSON(): Record<string, Resource> {
    return Object.fromEntries(this.entries());
  }
}

export function snapshotOf(types: Record<TypeUrl, TypeSnapshot>): Snapshot {
  const h = createHash('sha256');
  for (const t of TYPE_URLS) h.update(t).update(types[t].version);
  return { version: h.digest('base64url').slice(0, 16), types };
}
