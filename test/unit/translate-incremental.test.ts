// translate() reuses the last build's outputs (translate/translate.ts): per element of every
// list by object and position, then by name and content. Whatever the model changes (the
// model keeps the objects it did not change; its arrays are new each build), the output is
// what a translator with no memo gives (a freshly loaded module), and what did not change
// keeps its objects and lists.
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { benchCert } from '../../bench/cert.js';
import { generate } from '../../bench/generate.js';
import { buildModel } from '../../control-plane/src/model/build.js';
import { buildEndpoints } from '../../control-plane/src/model/endpoints.js';
import type { Cluster, EndpointModel, Model, TlsHost, TlsSecret, VirtualHost } from '../../control-plane/src/model/ir.js';
import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions } from '../../control-plane/src/pipeline/translate-store.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import type { GroupResources } from '../../control-plane/src/translate/resources.js';
import { resetTranslation, translate } from '../../control-plane/src/translate/translate.js';

type Translate = typeof translate;

/** A translator with empty memos: the module graph loaded anew. */
async function freshTranslator(): Promise<Translate> {
  vi.resetModules();
  return (await import('../../control-plane/src/translate/translate.js')).translate;
}

const gen = generate({ ingresses: 100, cert: benchCert(), seed: 21 });
const store = snapshotOf(gen.objects);
const base = buildModel(store, DEFAULT_PIPELINE_OPTIONS).model;
const endpoints: EndpointModel = buildEndpoints(base.clusters, store);
const H3: PipelineOptions = { ...DEFAULT_PIPELINE_OPTIONS, http3: {} };

/** One model edit, as an incremental model build makes them: changed objects are new, the others the same. */
const editArb = fc.oneof(
  fc.record({ op: fc.constant('vhost-change' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('vhost-copy' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('vhost-remove' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('vhost-restore' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('tls-remove' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('tls-restore' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('cluster-copy' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('cluster-remove' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('cluster-restore' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('secret-copy' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('opts' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('same' as const), at: fc.nat() }),
);
type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

function byKey<T>(list: readonly T[], key: (x: T) => string): T[] {
  return [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function apply(m: Model, e: Edit): Model {
  const vhs = [...m.virtualHosts];
  const tls = [...m.tlsHosts];
  const cls = [...m.clusters];
  const secrets = [...m.secrets];
  const pick = <T>(xs: T[]) => (xs.length ? e.at % xs.length : -1);
  switch (e.op) {
    case 'vhost-change': {
      const i = pick(vhs);
      if (i >= 0) vhs[i] = { ...vhs[i]!, routes: vhs[i]!.routes.length > 1 ? vhs[i]!.routes.slice(1) : [...vhs[i]!.routes, ...vhs[i]!.routes.map((r) => ({ ...r, name: `${r.name}-again` }))] };
      break;
    }
    case 'vhost-copy': {
      const i = pick(vhs);
      if (i >= 0) vhs[i] = structuredClone(vhs[i]!) as VirtualHost;
      break;
    }
    case 'vhost-remove': {
      const i = pick(vhs);
      if (i >= 0) vhs.splice(i, 1);
      break;
    }
    case 'vhost-restore': {
      const v = base.virtualHosts[e.at % base.virtualHosts.length]!;
      if (!vhs.some((x) => x.host === v.host)) return { ...m, virtualHosts: byKey([...vhs, v], (x) => x.host) };
      break;
    }
    case 'tls-remove': {
      const i = pick(tls);
      if (i >= 0) tls.splice(i, 1);
      break;
    }
    case 'tls-restore': {
      const t = base.tlsHosts[e.at % base.tlsHosts.length]!;
      if (!tls.some((x) => x.host === t.host)) return { ...m, tlsHosts: byKey<TlsHost>([...tls, t], (x) => x.host) };
      break;
    }
    case 'cluster-copy': {
      const i = pick(cls);
      if (i >= 0) cls[i] = { ...cls[i]! } as Cluster;
      break;
    }
    case 'cluster-remove': {
      const i = pick(cls);
      if (i >= 0) cls.splice(i, 1);
      break;
    }
    case 'cluster-restore': {
      const c = base.clusters[e.at % base.clusters.length]!;
      if (!cls.some((x) => x.name === c.name)) return { ...m, clusters: byKey([...cls, c], (x) => x.name) };
      break;
    }
    case 'secret-copy': {
      const i = pick(secrets);
      if (i >= 0) secrets[i] = { ...secrets[i]! } as TlsSecret;
      break;
    }
    case 'opts':
    case 'same':
      break;
  }
  return { virtualHosts: vhs, tlsHosts: tls, clusters: cls, secrets };
}

const FIELDS = ['listeners', 'routes', 'clusters', 'endpoints', 'secrets'] as const;

/** Where two lists of the same length differ, plus an index where they do not (a hint may name more than changed). */
function replacedAt<T>(from: readonly T[], to: readonly T[]): { from: readonly T[]; at: number[] } {
  const at: number[] = [];
  for (let i = 0; i < to.length; i++) if (to[i] !== from[i]) at.push(i);
  if (to.length && at.length < to.length) {
    const extra = to.findIndex((x, i) => x === from[i]);
    if (extra >= 0) at.push(extra);
  }
  return { from, at: at.sort((a, b) => a - b) };
}

describe('translate (incremental)', () => {
  let fresh: Translate;
  beforeAll(async () => {
    fresh = await freshTranslator();
  });

  it('gives what a translator without memo gives, after any sequence of model edits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(editArb, { minLength: 1, maxLength: 12 }), async (edits) => {
        let model = base;
        let opts: PipelineOptions = DEFAULT_PIPELINE_OPTIONS;
        let last = translate(model, endpoints, opts);
        for (const e of edits) {
          const before = model;
          model = apply(model, e);
          if (e.op === 'opts') opts = opts === H3 ? DEFAULT_PIPELINE_OPTIONS : H3;
          // As the model builder does when it knows: the virtual hosts replaced in place (the indices that differ, and one that does not).
          const told = model.virtualHosts.length === before.virtualHosts.length && e.at % 2 === 0 ? replacedAt(before.virtualHosts, model.virtualHosts) : undefined;
          const out = translate(model, endpoints, opts, undefined, told ? { virtualHosts: told } : undefined);
          // The reference sees only new objects: its memos never hit by object.
          fresh = await freshTranslator();
          expect(JSON.stringify(out)).toBe(JSON.stringify(fresh(structuredClone(model), structuredClone(endpoints), opts)));
          if (e.op === 'same') for (const g of Object.keys(out)) for (const f of FIELDS) expect(out[g]![f]).toBe(last[g]![f]);
          last = out;
        }
      }),
      { numRuns: 20 },
    );
  }, 120_000);

  it('follows a contributed filter when the routes using it change in place', async () => {
    const uses = (v: VirtualHost) => v.routes.some((r) => r.policy && Object.keys(r.policy).length > 0);
    expect(base.virtualHosts.some(uses)).toBe(true);
    // Every host whose routes carry a policy loses it (new objects at the same places), then gets it back.
    const stripped: Model = { ...base, virtualHosts: base.virtualHosts.map((v) => (uses(v) ? { ...v, routes: v.routes.map(({ policy: _p, ...r }) => r) } : v)) };
    for (const model of [base, stripped, base, { ...base, virtualHosts: [...base.virtualHosts] }]) {
      const out = translate(model, endpoints, DEFAULT_PIPELINE_OPTIONS);
      fresh = await freshTranslator();
      expect(JSON.stringify(out)).toBe(JSON.stringify(fresh(model, endpoints, DEFAULT_PIPELINE_OPTIONS)));
    }
    expect(JSON.stringify(translate(stripped, endpoints, DEFAULT_PIPELINE_OPTIONS).envoy!.listeners)).not.toBe(JSON.stringify(translate(base, endpoints, DEFAULT_PIPELINE_OPTIONS).envoy!.listeners));
  });

  it('collects contributed filters right when most hosts are new (more than 256: the walk over routes with a policy)', async () => {
    const bigGen = generate({ ingresses: 400, cert: benchCert(), seed: 23 });
    const bigStore = snapshotOf(bigGen.objects);
    const big = buildModel(bigStore, DEFAULT_PIPELINE_OPTIONS).model;
    const bigEndpoints = buildEndpoints(big.clusters, bigStore);
    expect(big.virtualHosts.length).toBeGreaterThan(300);
    const uses = (v: VirtualHost) => v.routes.some((r) => r.policy && Object.keys(r.policy).length > 0);
    const stripped: Model = { ...big, virtualHosts: big.virtualHosts.map((v) => (uses(v) ? { ...v, routes: v.routes.map(({ policy: _p, ...r }) => r) } : v)) };
    const everyOther: Model = { ...big, virtualHosts: big.virtualHosts.map((v, i) => (i % 2 ? (structuredClone(v) as VirtualHost) : v)) };
    const fewer: Model = { ...big, virtualHosts: big.virtualHosts.filter((_, i) => i % 3 !== 0) };
    let prev: Model | undefined;
    for (const model of [big, structuredClone(big) as Model, stripped, everyOther, fewer, big, structuredClone(stripped) as Model, big]) {
      const told = prev && prev.virtualHosts.length === model.virtualHosts.length ? { virtualHosts: replacedAt(prev.virtualHosts, model.virtualHosts) } : undefined;
      const out = translate(model, bigEndpoints, DEFAULT_PIPELINE_OPTIONS, undefined, told);
      prev = model;
      fresh = await freshTranslator();
      expect(JSON.stringify(out)).toBe(JSON.stringify(fresh(structuredClone(model), structuredClone(bigEndpoints), DEFAULT_PIPELINE_OPTIONS)));
    }
  }, 60_000);

  it('follows the filters an HTTPS host enables when its routes gain or lose external auth in place', async () => {
    const withAuth = base.virtualHosts.flatMap((v) => v.routes).find((r) => r.policy?.extAuth && !r.policy.failClosed);
    expect(withAuth).toBeDefined();
    const tlsHost = base.tlsHosts.find((t) => base.virtualHosts.some((v) => v.host === t.host && v.routes.every((r) => !r.policy?.extAuth)))!;
    const i = base.virtualHosts.findIndex((v) => v.host === tlsHost.host);
    const vh = base.virtualHosts[i]!;
    const authed: VirtualHost = { ...vh, routes: vh.routes.map((r) => ({ ...r, policy: { ...r.policy, extAuth: withAuth!.policy!.extAuth } })) };
    const hosts = [...base.virtualHosts];
    hosts[i] = authed;
    const gained: Model = { ...base, virtualHosts: hosts };
    let prev = base;
    translate(base, endpoints, DEFAULT_PIPELINE_OPTIONS);
    for (const model of [gained, base, gained]) {
      const out = translate(model, endpoints, DEFAULT_PIPELINE_OPTIONS, undefined, { virtualHosts: { from: prev.virtualHosts, at: [i] } });
      prev = model;
      fresh = await freshTranslator();
      expect(JSON.stringify(out)).toBe(JSON.stringify(fresh(structuredClone(model), structuredClone(endpoints), DEFAULT_PIPELINE_OPTIONS)));
    }
  });

  it('keeps the objects of what did not change when one virtual host changes', () => {
    const a = translate(base, endpoints, DEFAULT_PIPELINE_OPTIONS);
    const tlsHost = base.tlsHosts[0]!;
    const i = base.virtualHosts.findIndex((v) => v.host === tlsHost.host);
    const model = apply(base, { op: 'vhost-change', at: i });
    const b = translate(model, endpoints, DEFAULT_PIPELINE_OPTIONS);
    const changed = (g: string, f: (typeof FIELDS)[number]): number => b[g]![f].filter((r, n) => r !== a[g]![f][n]).length;
    // Envoy: the http route configuration and the host's https one; gRPC: the http one.
    expect(changed('envoy', 'routes')).toBe(2);
    expect(changed('grpc', 'routes')).toBe(1);
    for (const f of ['listeners', 'clusters', 'endpoints', 'secrets'] as const) {
      expect(b['envoy']![f]).toBe(a['envoy']![f]);
      expect(b['grpc']![f]).toBe(a['grpc']![f]);
    }
    // Inside the http route configurations, only that virtual host is a new object.
    const vhosts = (r: GroupResources, g: string) => r[g]!.routes[0]!['virtual_hosts'] as unknown[];
    for (const g of ['envoy', 'grpc']) expect(vhosts(b, g).filter((v, n) => v !== vhosts(a, g)[n]).length).toBe(1);
    // The same model again (new arrays): the same output lists.
    const c = translate({ ...model, virtualHosts: [...model.virtualHosts], clusters: [...model.clusters] }, endpoints, DEFAULT_PIPELINE_OPTIONS);
    for (const g of Object.keys(b)) for (const f of FIELDS) expect(c[g]![f]).toBe(b[g]![f]);
  });

  it('makes every resource anew after resetTranslation (what a from-scratch benchmark measures), with the same content', async () => {
    const first = translate(base, endpoints, DEFAULT_PIPELINE_OPTIONS);
    // An equal model of new objects (a fresh model builder's): reused by name and content…
    const copy = structuredClone(base);
    const reused = translate(copy, endpoints, DEFAULT_PIPELINE_OPTIONS);
    expect(reused['envoy']!.clusters).toBe(first['envoy']!.clusters);
    resetTranslation();
    // …and after the reset, made anew: no object is one of the last build's.
    const again = structuredClone(base);
    const anew = translate(again, structuredClone(endpoints), DEFAULT_PIPELINE_OPTIONS);
    const fresh = await freshTranslator();
    expect(JSON.stringify(anew)).toBe(JSON.stringify(fresh(structuredClone(base), structuredClone(endpoints), DEFAULT_PIPELINE_OPTIONS)));
    for (const g of Object.keys(anew)) {
      for (const f of FIELDS) {
        const before = new Set<unknown>(reused[g]![f]);
        expect(anew[g]![f].filter((r) => before.has(r))).toEqual([]);
      }
    }
  });
});
