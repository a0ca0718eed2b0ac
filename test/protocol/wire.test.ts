import { describe, expect, it } from 'vitest';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET } from '../../control-plane/src/xds/type-urls.js';
import { namesOf, versionOf } from '../../control-plane/src/xds/server/wire.js';
import { cluster, endpoints, listener, route, secret } from './harness.js';

describe('wire forms', () => {
  const snap = new SnapshotEncoder().build({
    clusters: [cluster('b'), cluster('a')],
    endpoints: [endpoints('a')],
    listeners: [listener('l1', 'r1')],
    routes: [route('r1', ['a', 'b'])],
    secrets: [secret('s1')],
  });

  it('encodes every fixture resource', () => {
    for (const t of [CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET]) expect(snap.types[t].resources.size).toBeGreaterThan(0);
  });

  it('computes the type version for a full type, by the same formula as the snapshot', () => {
    const cds = snap.types[CLUSTER];
    expect(versionOf(cds.resources)).toBe(cds.version);
    expect(versionOf(new Map([...cds.resources].reverse()))).toBe(cds.version);
  });

  it('lists the names of a resource map once', () => {
    const all = snap.types[CLUSTER].resources;
    expect(namesOf(all)).toEqual(['a', 'b']);
    expect(namesOf(all)).toBe(namesOf(all));
  });
});
