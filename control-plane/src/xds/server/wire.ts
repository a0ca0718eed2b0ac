// Wire forms of Resources, built once and shared by every stream: the name list of a
// resource map (a whole TypeSnapshot, for wildcard subscribers), the part of a
// TypeSnapshot that a list of names selects (streams that subscribe to the same names
// share it), and the encoded response bodies (encoded.ts, written by body-writer.ts from
// the Resources' own bytes, never re-encoded): per resource map for SotW, per
// TypeSnapshot and change for delta.
import { changedNamesOf } from '../cache/snapshot.js';
import { sumOf, versionOfSum } from '../cache/type-version.js';
import type { Resource, TypeSnapshot } from '../cache/types.js';
import type { TypeUrl } from '../type-urls.js';
import { deltaBody, sotwBody } from './body-writer.js';
import type { SharedBody } from './encoded.js';

export type ResourceMap = ReadonlyMap<string, Resource>;

const nameLists = new WeakMap<ResourceMap, readonly string[]>();

export function namesOf(resources: ResourceMap): readonly string[] {
  let names = nameLists.get(resources);
  if (!names) {
    names = [...resources.keys()];
    nameLists.set(resources, names);
  }
  return names;
}

/**
 * The version of a set of resources (cache/type-version.ts): the same formula as
 * TypeSnapshot.version, so a full type hashes to its type version.
 */
export function versionOf(resources: ResourceMap): string {
  return versionOfSum(sumOf(resources));
}

/** Resource names sorted by UTF-16 code units, as TypeSnapshot sorts them. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The resources of a subset and its version (versionOf). */
export interface Selection {
  readonly version: string;
  readonly resources: ResourceMap;
}

/**
 * A map that forgets its oldest entry beyond `max`: streams in step ask for the same few
 * keys, and one odd stream must not make the memo grow with the number of streams.
 */
class Bounded<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.entries.get(key);
  }
  set(key: string, value: V): V {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
    return value;
  }
}

const MEMO_ENTRIES = 16;
const selections = new WeakMap<ResourceMap, Bounded<Selection>>();

/**
 * The resources of `all` named in `sortedNames` (sorted by compare, `key` standing for
 * the list), in name order, and their version: the same object for every stream that
 * subscribes to the same names of the same map.
 */
export function selectionOf(all: ResourceMap, sortedNames: readonly string[], key: string): Selection {
  let memo = selections.get(all);
  if (!memo) selections.set(all, (memo = new Bounded(MEMO_ENTRIES)));
  const hit = memo.get(key);
  if (hit) return hit;
  const m = new Map<string, Resource>();
  for (const n of sortedNames) {
    const r = all.get(n);
    if (r) m.set(n, r);
  }
  return memo.set(key, { version: versionOf(m), resources: m });
}

const sotwBodies = new WeakMap<ResourceMap, { readonly version: string; readonly typeUrl: TypeUrl; readonly body: SharedBody }>();

/** The SotW response body (all but the nonce) that carries `resources` at `version`. */
export function sotwBodyOf(typeUrl: TypeUrl, version: string, resources: ResourceMap): SharedBody {
  const hit = sotwBodies.get(resources);
  if (hit && hit.version === version && hit.typeUrl === typeUrl) return hit.body;
  const body = sotwBody(typeUrl, version, resources.values());
  sotwBodies.set(resources, { version, typeUrl, body });
  return body;
}

const partialBodies = new WeakMap<ResourceMap, { readonly to: ResourceMap; readonly version: string; readonly typeUrl: TypeUrl; readonly body: SharedBody | undefined }>();

/**
 * A SotW response body that carries, of `to` at `version`, only the resources not held
 * at the same version in `from` (what the client ACKed): for RDS, EDS and SDS a name left
 * out of a response keeps what the client has (xDS protocol; Envoy, gRFC A27), so a
 * change to one of 7,000 route configurations sends one. Shared by the streams that make
 * the same move; undefined when nothing would be left out, or nothing sent.
 */
export function sotwPartialBodyOf(typeUrl: TypeUrl, version: string, from: ResourceMap, to: ResourceMap): SharedBody | undefined {
  const hit = partialBodies.get(from);
  if (hit && hit.to === to && hit.version === version && hit.typeUrl === typeUrl) return hit.body;
  const changed = new Map<string, Resource>();
  for (const [name, r] of to) if (from.get(name)?.version !== r.version) changed.set(name, r);
  const body = changed.size === 0 || changed.size === to.size ? undefined : sotwBody(typeUrl, version, changed.values());
  partialBodies.set(from, { to, version, typeUrl, body });
  return body;
}

const deltaBodies = new WeakMap<TypeSnapshot, Bounded<SharedBody>>();

/**
 * The delta response body (all but the nonce) that brings `updates` of `ts` and removes
 * `removals`: streams that need the same change of the same TypeSnapshot share it.
 */
export function deltaBodyOf(typeUrl: TypeUrl, ts: TypeSnapshot, updates: readonly Resource[], removals: readonly string[]): SharedBody {
  let memo = deltaBodies.get(ts);
  if (!memo) deltaBodies.set(ts, (memo = new Bounded(MEMO_ENTRIES)));
  // Within one TypeSnapshot a name stands for one resource: names identify the updates,
  // and as many distinct updates as the snapshot has resources are all of them (a first
  // wildcard response), whatever their order.
  let key = typeUrl;
  if (updates.length === ts.resources.size && removals.length === 0) key += '\u0001all';
  else {
    for (const r of updates) key += `\u0000${r.name}`;
    key += '\u0001';
    for (const n of removals) key += `\u0000${n}`;
  }
  const hit = memo.get(key);
  if (hit) return hit;
  const resources = key.endsWith('\u0001all') ? [...ts.resources.values()] : updates;
  return memo.set(key, deltaBody(typeUrl, ts.version, resources, removals));
}

const changes = new WeakMap<ResourceMap, { readonly to: ResourceMap; readonly names: readonly string[] }>();

/**
 * Names whose version differs between two resource maps (added, changed or gone), worked
 * out once for every stream that moves from `from` to `to`.
 */
export function changedNames(from: ResourceMap, to: ResourceMap): readonly string[] {
  const hit = changes.get(from);
  if (hit && hit.to === to) return hit.names;
  let names = changedNamesOf(from, to);
  if (!names) {
    names = [];
    for (const [name, r] of to) if (from.get(name)?.version !== r.version) names.push(name);
    for (const name of from.keys()) if (!to.has(name)) names.push(name);
  }
  changes.set(from, { to, names });
  return names;
}
