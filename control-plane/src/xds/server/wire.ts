// Wire forms of Resources, built once and shared by every stream: the Any of a
// Resource wraps its own bytes (never re-encoded), and the Any list and name list of
// a resource map (a whole TypeSnapshot, for wildcard subscribers) are memoized.
import { hash } from '../cache/snapshot.js';
import type { Resource } from '../cache/types.js';
import type { AnyMessage, DeltaResource } from './messages.js';

export type ResourceMap = ReadonlyMap<string, Resource>;

const anys = new WeakMap<Resource, AnyMessage>();
const deltas = new WeakMap<Resource, DeltaResource>();
const anyLists = new WeakMap<ResourceMap, readonly AnyMessage[]>();
const nameLists = new WeakMap<ResourceMap, readonly string[]>();

export function anyOf(r: Resource): AnyMessage {
  let a = anys.get(r);
  if (!a) {
    a = { type_url: r.typeUrl, value: r.bytes };
    anys.set(r, a);
  }
  return a;
}

export function deltaResourceOf(r: Resource): DeltaResource {
  let d = deltas.get(r);
  if (!d) {
    d = { name: r.name, version: r.version, resource: anyOf(r) };
    deltas.set(r, d);
  }
  return d;
}

export function anyListOf(resources: ResourceMap): readonly AnyMessage[] {
  let list = anyLists.get(resources);
  if (!list) {
    list = [...resources.values()].map(anyOf);
    anyLists.set(resources, list);
  }
  return list;
}

export function namesOf(resources: ResourceMap): readonly string[] {
  let names = nameLists.get(resources);
  if (!names) {
    names = [...resources.keys()];
    nameLists.set(resources, names);
  }
  return names;
}

/**
 * The version of a set of resources: a hash over its sorted (name, version) pairs,
 * the same formula as TypeSnapshot.version, so a full type hashes to its type version.
 */
export function versionOf(resources: ResourceMap): string {
  const names = [...resources.keys()].sort(compare);
  return hash(names.map((n) => `${n}\u0000${resources.get(n)!.version}\u0000`).join(''));
}

/** Resource names sorted by UTF-16 code units, as TypeSnapshot sorts them. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
