// Which Ingresses xgate serves: exactly the model's answer (buildModel's `ingresses`),
// computed once per store snapshot.
import type { ObjectRef } from '../diagnostics.js';
import { buildModel } from '../model/build.js';
import type { ModelOptions } from '../model/options.js';
import type { StoreSnapshot } from '../sources/store.js';

export class ServedIngresses {
  private last: { snap: StoreSnapshot; keys: ReadonlySet<string> } | undefined;

  constructor(private readonly opts: ModelOptions) {}

  /** `namespace/name` of every Ingress served from this snapshot. */
  of(snap: StoreSnapshot): ReadonlySet<string> {
    if (this.last?.snap !== snap) {
      const keys = new Set(buildModel(snap, this.opts).ingresses.map((r: ObjectRef) => `${r.namespace}/${r.name}`));
      this.last = { snap, keys };
    }
    return this.last.keys;
  }
}
