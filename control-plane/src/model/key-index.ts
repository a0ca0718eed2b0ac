// A reverse index: key → the names that depend on it (the Ingresses that read a Service,
// the clusters of a Service). Most keys have one name, kept as a lone string; a Set is
// made only for a key with several (at 10,000 Ingresses, a Set per key would cost MBs).
export class KeyIndex {
  private readonly byKey = new Map<string, string | Set<string>>();

  add(key: string, name: string): void {
    const v = this.byKey.get(key);
    if (v === undefined) this.byKey.set(key, name);
    else if (typeof v === 'string') {
      if (v !== name) this.byKey.set(key, new Set([v, name]));
    } else v.add(name);
  }

  remove(key: string, name: string): void {
    const v = this.byKey.get(key);
    if (v === undefined) return;
    if (typeof v === 'string') {
      if (v === name) this.byKey.delete(key);
      return;
    }
    v.delete(name);
    if (v.size === 1) this.byKey.set(key, v.values().next().value!);
    else if (v.size === 0) this.byKey.delete(key);
  }

  /** Adds the names of `key` to `out`. */
  collect(key: string, out: Set<string>): void {
    const v = this.byKey.get(key);
    if (v === undefined) return;
    if (typeof v === 'string') out.add(v);
    else for (const n of v) out.add(n);
  }

  get size(): number {
    return this.byKey.size;
  }
}
