// Results worked out from an object's annotations alone (AnnotationReader.signature()),
// shared by the objects that carry the same annotations: charts and rollout tools give
// many Ingresses the same set. A cache: a result is kept only when working it out
// reported nothing (a diagnostic names its object), and the same annotations give the
// same result either way, so a full memo is simply cleared.
export class SignatureMemo<T> {
  private readonly map = new Map<string, T>();

  constructor(private readonly max = 4096) {
    memos.push(this as SignatureMemo<unknown>);
  }

  get(signature: string | undefined): T | undefined {
    return signature === undefined ? undefined : this.map.get(signature);
  }

  set(signature: string | undefined, value: T): void {
    if (signature === undefined) return;
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(signature, value);
  }

  clear(): void {
    this.map.clear();
  }
}

const memos: SignatureMemo<unknown>[] = [];

/** Forgets every shared result (for benchmarks of a from-scratch build). */
export function resetSignatureMemos(): void {
  for (const m of memos) m.clear();
}
