import { describe, expect, it } from 'vitest';
import { benchCert } from '../../bench/cert.js';
import { CHANGE_KINDS, changeTargets, generate, modifyIngress } from '../../bench/generate.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore } from '../../control-plane/src/pipeline/translate-store.js';
import { WATCHED_KINDS } from '../../control-plane/src/sources/k8s-types.js';
import { Store, snapshotOf } from '../../control-plane/src/sources/store.js';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';

describe('incremental rebuilds', () => {
  it('copies only the changed kind in a store snapshot, and leaves earlier snapshots as they were', () => {
    const gen = generate({ ingresses: 20, cert: benchCert(), seed: 3 });
    const store = new Store();
    store.replace(gen.objects, WATCHED_KINDS);
    const a = store.snapshot();
    const ing = gen.ingresses[0]!;
    store.upsert(modifyIngress(ing, 'add-path', 0));
    const b = store.snapshot();
    expect(b.ingresses).not.toBe(a.ingresses);
    expect(b.services).toBe(a.services);
    expect(b.secrets).toBe(a.secrets);
    const key = `${ing.metadata.namespace}/${ing.metadata.name}`;
    expect(a.ingresses.get(key)).toBe(ing);
    expect(b.ingresses.get(key)).not.toBe(ing);
  });

  it('gives, after one changed Ingress, the output of a build from scratch, reusing untouched virtual hosts', () => {
    const gen = generate({ ingresses: 60, cert: benchCert(), seed: 5 });
    const store = new Store();
    store.replace(gen.objects, WATCHED_KINDS);
    const encoder = new SnapshotEncoder();
    let before = translateStore(store.snapshot(), DEFAULT_PIPELINE_OPTIONS);
    encoder.buildGroups(before.resources);
    const current = [...gen.ingresses];
    let step = 0;
    for (const kind of CHANGE_KINDS) {
      for (const idx of changeTargets(gen, kind).slice(0, 2)) {
        const modified = modifyIngress(current[idx]!, kind, step++);
        current[idx] = modified;
        store.upsert(modified);
        const after = translateStore(store.snapshot(), DEFAULT_PIPELINE_OPTIONS);
        const snaps = encoder.buildGroups(after.resources);
        const prior = new Set(before.model.virtualHosts);
        expect(after.model.virtualHosts.filter((vh) => prior.has(vh)).length).toBeGreaterThan(after.model.virtualHosts.length / 2);
        // A build of the same objects in a new store (after builds of other stores) is the same.
        translateStore(snapshotOf(generate({ ingresses: 10, cert: benchCert(), seed: step }).objects), DEFAULT_PIPELINE_OPTIONS);
        const fresh = translateStore(snapshotOf(store.snapshot().ingresses.size ? [...objectsOf(store)] : []), DEFAULT_PIPELINE_OPTIONS);
        expect(JSON.stringify(after.resources)).toBe(JSON.stringify(fresh.resources));
        expect(JSON.stringify(after.diagnostics)).toBe(JSON.stringify(fresh.diagnostics));
        const freshSnaps = new SnapshotEncoder().buildGroups(fresh.resources);
        for (const g of Object.keys(freshSnaps)) expect(snaps[g]!.version).toBe(freshSnaps[g]!.version);
        before = translateStore(store.snapshot(), DEFAULT_PIPELINE_OPTIONS);
      }
    }
  });
});

function* objectsOf(store: Store) {
  const s = store.snapshot();
  for (const m of [s.ingresses, s.ingressClasses, s.services, s.endpointSlices, s.secrets, s.pods]) yield* m.values();
}
