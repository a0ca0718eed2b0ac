// buildEndpoints is incremental (model/endpoints.ts): the service → slices index follows the
// store's EndpointSlice map, and a cluster whose inputs are unchanged keeps its
// ClusterEndpoints. Whatever the sequence of store and cluster changes, the result is what
// the plain computation (below, the algorithm before it was made incremental) gives.
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEndpoints, OUR_READINESS_GATE } from '../../control-plane/src/model/endpoints.js';
import type { Cluster, Endpoint, EndpointModel } from '../../control-plane/src/model/ir.js';
import type { EndpointSlice, Pod, WatchedObject } from '../../control-plane/src/sources/k8s-types.js';
import { SERVICE_NAME_LABEL } from '../../control-plane/src/sources/k8s-types.js';
import { Store, type StoreSnapshot } from '../../control-plane/src/sources/store.js';

/** The plain computation: every slice, every cluster, every build. */
function reference(clusters: readonly Cluster[], store: StoreSnapshot): EndpointModel {
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of store.endpointSlices.values()) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (typeof svc !== 'string') continue;
    const key = `${slice.metadata.namespace}/${svc}`;
    let list = byService.get(key);
    if (!list) byService.set(key, (list = []));
    list.push(slice);
  }
  const gated = (ref: { kind?: string; name?: string } | undefined, ns: string | undefined): boolean => {
    if (!ref || ref.kind !== 'Pod' || !ref.name) return false;
    const pod = store.pods.get(`${ns}/${ref.name}`);
    if (!pod) return false;
    if (!(pod.spec?.readinessGates ?? []).some((g) => g.conditionType === OUR_READINESS_GATE)) return false;
    return (pod.status?.conditions ?? []).some((c) => c.type === 'ContainersReady' && c.status === 'True');
  };
  return {
    clusters: clusters.map((cluster) => {
      const found = new Map<string, Endpoint>();
      // Slices by name: an address in two slices takes the first one's entry.
      const slices = [...(byService.get(`${cluster.namespace}/${cluster.service}`) ?? [])].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
      for (const slice of slices) {
        if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
        const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === cluster.portName);
        if (!sp || typeof sp.port !== 'number') continue;
        for (const ep of slice.endpoints ?? []) {
          const c = ep.conditions ?? {};
          const ready = c.ready !== false;
          const serving = c.serving === undefined || c.serving === null ? ready : c.serving;
          const terminating = c.terminating === true;
          let health: Endpoint['health'];
          if ((ready || gated(ep.targetRef, slice.metadata.namespace)) && !terminating) health = 'HEALTHY';
          else if (serving && terminating) health = 'DRAINING';
          else continue;
          for (const address of ep.addresses) {
            if (isIP(address) === 0) continue;
            const key = `${address}\u0000${sp.port}`;
            if (found.get(key)?.health === 'HEALTHY') continue;
            found.set(key, { address, port: sp.port, health, ...(ep.zone ? { zone: ep.zone } : {}) });
          }
        }
      }
      const endpoints = [...found.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
      return { cluster: cluster.name, endpoints };
    }),
  };
}

const SERVICES = ['s0', 's1', 's2'];
const PODS = ['p0', 'p1'];

const endpointArb = fc.record({
  address: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1', 'not-an-ip'),
  ready: fc.constantFrom(true, false, false, undefined),
  serving: fc.constantFrom(true, false, undefined),
  terminating: fc.constantFrom(true, false, undefined),
  pod: fc.option(fc.constantFrom(...PODS), { nil: undefined, freq: 2 }),
  zone: fc.option(fc.constantFrom('z1', 'z2'), { nil: undefined }),
});

const sliceArb = fc.record({
  name: fc.constantFrom('e0', 'e1', 'e2', 'e3', 'e4', 'e5'),
  service: fc.option(fc.constantFrom(...SERVICES), { nil: undefined, freq: 8 }),
  addressType: fc.constantFrom('IPv4', 'IPv4', 'IPv6', 'FQDN'),
  ports: fc.subarray([
    { name: 'http', port: 8080 },
    { name: '', port: 9090 },
  ]),
  endpoints: fc.array(endpointArb, { maxLength: 4 }),
});

let rv = 0;

type SliceSpec = typeof sliceArb extends fc.Arbitrary<infer T> ? T : never;

function slice(s: SliceSpec): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: s.name, namespace: 'ns', resourceVersion: String(++rv), ...(s.service ? { labels: { [SERVICE_NAME_LABEL]: s.service } } : {}) },
    addressType: s.addressType,
    ports: s.ports.map((p) => (p.name ? { ...p } : { port: p.port })),
    endpoints: s.endpoints.map((e) => ({
      addresses: [e.address],
      conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
      ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod } } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
    })),
  };
}

function pod(name: string, gate: boolean, ready: boolean): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', resourceVersion: String(++rv) },
    spec: gate ? { readinessGates: [{ conditionType: OUR_READINESS_GATE }] } : {},
    status: { conditions: [{ type: 'ContainersReady', status: ready ? 'True' : 'False' }] },
  };
}

const clusterArb = fc.record({ service: fc.constantFrom(...SERVICES), portName: fc.constantFrom('http', 'http', '', 'other') });
const stepArb = fc.oneof(
  { weight: 5, arbitrary: sliceArb.map((s) => ({ op: 'slice' as const, s })) },
  { weight: 2, arbitrary: fc.constantFrom('e0', 'e1', 'e2', 'e3').map((name) => ({ op: 'remove-slice' as const, name })) },
  { weight: 3, arbitrary: fc.record({ name: fc.constantFrom(...PODS), gate: fc.boolean(), ready: fc.boolean() }).map((p) => ({ op: 'pod' as const, p })) },
  { weight: 1, arbitrary: fc.constantFrom(...PODS).map((name) => ({ op: 'remove-pod' as const, name })) },
  { weight: 3, arbitrary: fc.array(clusterArb, { maxLength: 6 }).map((cs) => ({ op: 'clusters' as const, cs })) },
  { weight: 2, arbitrary: fc.constant({ op: 'copy-clusters' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'relist' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'nothing' as const }) },
);

describe('buildEndpoints (incremental)', () => {
  it('gives the plain computation after any sequence of slice, pod and cluster changes', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 25 }), fc.boolean(), (steps, interleave) => {
        const store = new Store();
        let clusters: Cluster[] = [];
        let last: EndpointModel | undefined;
        for (const step of steps) {
          switch (step.op) {
            case 'slice':
              store.upsert(slice(step.s));
              break;
            case 'remove-slice':
              store.remove('EndpointSlice', `ns/${step.name}`);
              break;
            case 'pod':
              store.upsert(pod(step.p.name, step.p.gate, step.p.ready));
              break;
            case 'remove-pod':
              store.remove('Pod', `ns/${step.name}`);
              break;
            case 'clusters': {
              // Unique names, sorted; the same object for a cluster that did not change.
              const byName = new Map(clusters.map((c) => [c.name, c]));
              const next = new Map<string, Cluster>();
              for (const c of step.cs) {
                const name = `ns/${c.service}/${c.portName || 'none'}`;
                const prior = byName.get(name);
                next.set(name, prior ?? { name, namespace: 'ns', service: c.service, port: 80, portName: c.portName });
              }
              clusters = [...next.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
              break;
            }
            case 'copy-clusters':
              clusters = clusters.map((c) => ({ ...c }));
              break;
            case 'relist': {
              // The same objects in another order, in fresh maps.
              const s = store.snapshot();
              const objects: WatchedObject[] = [...s.endpointSlices.values(), ...s.pods.values()].reverse();
              store.replace([], ['EndpointSlice', 'Pod']);
              store.replace(objects, ['EndpointSlice', 'Pod']);
              break;
            }
            case 'nothing':
              break;
          }
          const snap = store.snapshot();
          const got = buildEndpoints(clusters, snap);
          expect(got).toEqual(reference(clusters, snap));
          if (step.op === 'nothing' && last && !interleave) expect(got).toBe(last);
          last = got;
          // Another store in between (another pipeline, a test) must not matter.
          if (interleave) buildEndpoints(clusters.slice(0, 1), new Store().snapshot());
        }
      }),
      { numRuns: 500, seed: Number(process.env["FC_SEED"] ?? -449820319) },
    );
  });

  it('keeps the ClusterEndpoints of clusters whose slices and pods did not change', () => {
    const store = new Store();
    const s0 = slice({ name: 'e0', service: 's0', addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ address: '10.0.0.1', ready: false, serving: false, terminating: false, pod: 'p0', zone: undefined }] });
    const s1 = slice({ name: 'e1', service: 's1', addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ address: '10.0.0.2', ready: true, serving: true, terminating: false, pod: undefined, zone: undefined }] });
    store.replace([s0, s1, pod('p0', true, false)], ['EndpointSlice', 'Pod']);
    const c0: Cluster = { name: 'ns/s0/http', namespace: 'ns', service: 's0', port: 80, portName: 'http' };
    const c1: Cluster = { name: 'ns/s1/http', namespace: 'ns', service: 's1', port: 80, portName: 'http' };
    const a = buildEndpoints([c0, c1], store.snapshot());
    expect(a.clusters[0]!.endpoints).toEqual([]);
    // A new list of the same clusters: the same objects.
    expect(buildEndpoints([c0, c1], store.snapshot())).toBe(a);
    // The gated pod becomes ready: only c0's endpoints change.
    store.upsert(pod('p0', true, true));
    const c = buildEndpoints([c0, c1], store.snapshot());
    expect(c.clusters[0]!.endpoints.map((e) => e.health)).toEqual(['HEALTHY']);
    expect(c.clusters[1]).toBe(a.clusters[1]);
    // A pod no endpoint consults: nothing changes.
    store.upsert(pod('p9', true, true));
    expect(buildEndpoints([c0, c1], store.snapshot())).toBe(c);
    // A slice of s1 changes: only c1's endpoints change.
    store.upsert({ ...s1, metadata: { ...s1.metadata, resourceVersion: 'x' }, endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: true } }] });
    const d = buildEndpoints([c0, c1], store.snapshot());
    expect(d.clusters[0]).toBe(c.clusters[0]);
    expect(d.clusters[1]!.endpoints.map((e) => e.address)).toEqual(['10.0.0.9']);
    // A slice rewritten with the same content: the same objects.
    store.upsert({ ...s1, metadata: { ...s1.metadata, resourceVersion: 'y' }, endpoints: [{ addresses: ['10.0.0.9'], conditions: { ready: true } }] });
    expect(buildEndpoints([c0, c1], store.snapshot())).toBe(d);
    // A content-equal copy of a cluster: the same objects.
    expect(buildEndpoints([{ ...c0 }, c1], store.snapshot())).toBe(d);
  });
});
