// The store's change log (sources/store.ts changesSince): per map, the keys added,
// changed or removed between two snapshots, which the model and the endpoint index use
// to redo only what read them.
import { describe, expect, it } from 'vitest';
import type { WatchedObject } from '../../control-plane/src/sources/k8s-types.js';
import { Store } from '../../control-plane/src/sources/store.js';

function svc(name: string, rv: string): WatchedObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns', name, resourceVersion: rv }, spec: { ports: [{ port: 80 }] } } as unknown as WatchedObject;
}

function secret(name: string, rv: string): WatchedObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'ns', name, resourceVersion: rv }, data: {} } as unknown as WatchedObject;
}

const keys = (s: ReadonlySet<string> | 'all' | undefined): string[] | 'all' | undefined => (s === undefined || s === 'all' ? s : [...s].sort());

describe('store change log', () => {
  it('tells the keys changed per map between any two recent snapshots', () => {
    const store = new Store();
    store.replace([svc('a', '1'), svc('b', '1')], ['Service']);
    const s0 = store.snapshot();
    store.upsert(svc('a', '2'));
    store.upsert(secret('t', '1'));
    const s1 = store.snapshot();
    store.remove('Service', 'ns/b');
    store.upsert(svc('a', '2')); // the same version: not a change
    const s2 = store.snapshot();

    const c01 = s1.changesSince!(s0.seq!)!;
    expect(keys(c01.services)).toEqual(['ns/a']);
    expect(keys(c01.secrets)).toEqual(['ns/t']);
    expect(c01.endpointSlices).toBeUndefined();
    const c02 = s2.changesSince!(s0.seq!)!;
    expect(keys(c02.services)).toEqual(['ns/a', 'ns/b']);
    expect(keys(s2.changesSince!(s1.seq!)!.services)).toEqual(['ns/b']);
    expect(s2.changesSince!(s2.seq!)).toEqual({});
    expect(s2.ingressChangesSince!(s0.seq!)!.size).toBe(0);
  });

  it('says "all" for a map replaced (a relist) and knows nothing of older or foreign snapshots', () => {
    const store = new Store();
    const s0 = store.snapshot();
    store.replace([svc('a', '1')], ['Service']);
    const s1 = store.snapshot();
    expect(s1.changesSince!(s0.seq!)!.services).toBe('all');
    expect(s1.changesSince!(s0.seq! - 1000)).toBeUndefined();
    const other = new Store().snapshot();
    expect(s1.changesSince!(other.seq!)).toBeUndefined();
    // Past the log's length, the oldest snapshots are forgotten.
    for (let i = 0; i < 20; i++) {
      store.upsert(svc('a', `v${i}`));
      store.snapshot();
    }
    expect(store.snapshot().changesSince!(s1.seq!)).toBeUndefined();
  });

  it('records fetched documents by URL', () => {
    const store = new Store();
    const s0 = store.snapshot();
    store.setExternal({ url: 'https://idp.example/jwks', ok: true, body: '{}', fetchedAt: 0 } as never);
    const s1 = store.snapshot();
    expect(keys(s1.changesSince!(s0.seq!)!.external)).toEqual(['https://idp.example/jwks']);
    store.deleteExternal('https://idp.example/jwks');
    expect(keys(store.snapshot().changesSince!(s1.seq!)!.external)).toEqual(['https://idp.example/jwks']);
  });
});
