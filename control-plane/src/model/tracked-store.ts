// A view of a store snapshot that records what was read through it, so work derived
// from one object (an Ingress's routes and policies) can be reused in the next build
// when everything it read is still the same. Unchanged objects keep their identity
// from snapshot to snapshot (the store replaces an object only when it changed), so a
// read is "the same" when the same key gives the same object; iterating a whole kind
// depends on that kind's map, which the store copies only when the kind changed.
import { flat } from './flat.js';
import type { StoreSnapshot } from '../sources/store.js';

type Field = Exclude<keyof StoreSnapshot, never>;

/** One read: `key` in the map `field` gave `value`; without key, the whole map was walked. */
export interface Read {
  readonly field: Field;
  readonly key?: string;
  readonly value: unknown;
}

class TrackedMap<V> implements ReadonlyMap<string, V> {
  constructor(
    private readonly field: Field,
    private readonly map: ReadonlyMap<string, V>,
    private readonly reads: Read[],
  ) {}
  get(key: string): V | undefined {
    // Flat first: the map compares its keys with this one (a key made by concatenation
    // is a tree of parts until flattened, and the read keeps it anyway).
    const k = flat(key);
    const v = this.map.get(k);
    this.reads.push({ field: this.field, key: k, value: v });
    return v;
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  private whole(): ReadonlyMap<string, V> {
    this.reads.push({ field: this.field, value: this.map });
    return this.map;
  }
  get size(): number {
    return this.whole().size;
  }
  forEach(cb: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    this.whole().forEach((v, k) => cb.call(thisArg, v, k, this));
  }
  entries(): MapIterator<[string, V]> {
    return this.whole().entries();
  }
  keys(): MapIterator<string> {
    return this.whole().keys();
  }
  values(): MapIterator<V> {
    return this.whole().values();
  }
  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.whole()[Symbol.iterator]();
  }
}


/**
 * A snapshot view whose every map read lands in `reads`. Each kind's tracked map is made
 * when the kind is first read (an Ingress's plan reads Services only, mostly): three
 * views per Ingress in a build, seven maps each, were ~200k objects at 10k Ingresses.
 */
export function trackStore(store: StoreSnapshot, reads: Read[]): StoreSnapshot {
  return new TrackedStore(store, reads) as unknown as StoreSnapshot;
}

class TrackedStore {
  private ingresses_?: TrackedMap<unknown>;
  private ingressClasses_?: TrackedMap<unknown>;
  private services_?: TrackedMap<unknown>;
  private endpointSlices_?: TrackedMap<unknown>;
  private secrets_?: TrackedMap<unknown>;
  private pods_?: TrackedMap<unknown>;
  private external_?: TrackedMap<unknown>;

  constructor(
    private readonly store: StoreSnapshot,
    private readonly reads: Read[],
  ) {}

  private track(f: Field): TrackedMap<unknown> {
    // An absent optional map (external) reads as empty; record that it was absent.
    const m = this.store[f] as ReadonlyMap<string, unknown> | undefined;
    return new TrackedMap(f, m ?? EMPTY, this.reads);
  }

  get ingresses(): TrackedMap<unknown> {
    return (this.ingresses_ ??= this.track('ingresses'));
  }
  get ingressClasses(): TrackedMap<unknown> {
    return (this.ingressClasses_ ??= this.track('ingressClasses'));
  }
  get services(): TrackedMap<unknown> {
    return (this.services_ ??= this.track('services'));
  }
  get endpointSlices(): TrackedMap<unknown> {
    return (this.endpointSlices_ ??= this.track('endpointSlices'));
  }
  get secrets(): TrackedMap<unknown> {
    return (this.secrets_ ??= this.track('secrets'));
  }
  get pods(): TrackedMap<unknown> {
    return (this.pods_ ??= this.track('pods'));
  }
  get external(): TrackedMap<unknown> {
    return (this.external_ ??= this.track('external'));
  }
}

const EMPTY: ReadonlyMap<string, unknown> = new Map();

/** True when every read gives the same answer in `store`. */
export function readsStillHold(reads: readonly Read[], store: StoreSnapshot): boolean {
  for (const r of reads) {
    const m = (store[r.field] as ReadonlyMap<string, unknown> | undefined) ?? EMPTY;
    if (r.key === undefined) {
      if (m !== r.value) return false;
    } else if (m.get(r.key) !== r.value) return false;
  }
  return true;
}

/**
 * Reads plus the maps they were made in. The store copies a kind's map only when that
 * kind changed, so while every map read is the same object the reads hold without
 * looking at them one by one: checking costs one pointer comparison per kind read.
 */
export interface ReadRecord {
  readonly reads: readonly Read[];
  readonly maps: ReadonlyArray<readonly [Field, unknown]>;
}

export function readRecord(reads: readonly Read[], store: StoreSnapshot): ReadRecord {
  // Kept as long as what was derived from them: the same read twice (an Ingress's paths
  // to one Service) is kept once, in exact-size arrays.
  const kept: Read[] = [];
  const maps: (readonly [Field, unknown])[] = [];
  for (const r of reads) {
    if (reads.length > 32 || !kept.some((k) => k.field === r.field && k.key === r.key && k.value === r.value)) kept.push(r);
    if (!maps.some((m) => m[0] === r.field)) maps.push(mapEntry(r.field, store[r.field]));
  }
  return { reads: kept.slice(), maps: maps.slice() };
}

/** One [field, map] pair per map object, shared by every record made in it. */
const mapEntries = new WeakMap<object, readonly [Field, unknown]>();

function mapEntry(field: Field, map: unknown): readonly [Field, unknown] {
  if (typeof map !== 'object' || map === null) return [field, map];
  let e = mapEntries.get(map);
  if (!e || e[0] !== field) {
    e = [field, map] as const;
    mapEntries.set(map, e);
  }
  return e;
}

/** True when every read of the record gives the same answer in `store`. */
export function recordHolds(rec: ReadRecord, store: StoreSnapshot): boolean {
  for (const [f, m] of rec.maps) if (store[f] !== m) return readsStillHold(rec.reads, store);
  return true;
}
