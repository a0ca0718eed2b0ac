// A read-only map made of a frozen base map and a few edits on top, so a store snapshot
// after one change costs O(changes) instead of a copy of every object of the kind.
// The store flattens it into a new base when the edits grow (amortised O(1) per change).
// Iteration gives the base's entries (less the edited keys), then the edited entries.

export class OverlayMap<V> implements ReadonlyMap<string, V> {
  /**
   * @param base never mutated while this map is used
   * @param edits key → new value, or null when the key was removed (never mutated)
   * @param size the number of entries after the edits
   */
  constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly edits: ReadonlyMap<string, V | null>,
    readonly size: number,
  ) {}

  get(key: string): V | undefined {
    const e = this.edits.get(key);
    if (e !== undefined) return e === null ? undefined : e;
    return this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[string, V]> {
    for (const [k, v] of this.base) if (!this.edits.has(k)) yield [k, v];
    for (const [k, v] of this.edits) if (v !== null) yield [k, v];
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(cb: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this);
  }
}
