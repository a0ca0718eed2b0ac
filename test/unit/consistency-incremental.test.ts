// checkConsistency counts defined and referred names incrementally per group
// (pipeline/consistency.ts). Whatever the sequence of resource lists, in two groups checked
// alternately, it reports exactly what a whole check (below) reports.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkConsistency } from '../../control-plane/src/pipeline/consistency.js';
import type { EnvoyResources } from '../../control-plane/src/translate/resources.js';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';

const CLUSTERS = ['c0', 'c1', 'c2', 'c3'];
const SECRETS = ['s0', 's1'];
const ROUTES = ['r0', 'r1', 'r2'];

const sds = { ads: {} };
const listenerArb = fc.record({
  name: fc.constantFrom('l0', 'l1'),
  routes: fc.subarray(ROUTES),
  secret: fc.option(fc.constantFrom(...SECRETS), { nil: undefined }),
  cluster: fc.option(fc.constantFrom(...CLUSTERS), { nil: undefined }),
}).map(({ name, routes, secret, cluster }): JsonObject => ({
  name,
  filter_chains: routes.map((r) => ({
    filters: [{ typed_config: { rds: { route_config_name: r }, http_filters: cluster ? [{ name: 'x', cluster }] : [] } }],
    ...(secret ? { transport_socket: { tls_certificate_sds_secret_configs: [{ name: secret, sds_config: sds }] } } : {}),
  })),
}));
const vhostArb = fc.record({
  host: fc.constantFrom('a', 'b', 'c', 'd'),
  single: fc.subarray(CLUSTERS, { maxLength: 2 }),
  weighted: fc.subarray(CLUSTERS, { maxLength: 2 }),
}).map(({ host, single, weighted }): JsonObject => ({
  name: host,
  routes: [...single.map((c) => ({ route: { cluster: c } })), ...(weighted.length ? [{ route: { weighted_clusters: { clusters: weighted.map((c) => ({ name: c, weight: 1 })) } } }] : [])],
}));
const clusterArb = fc.record({ name: fc.constantFrom(...CLUSTERS), eds: fc.boolean() }).map(({ name, eds }): JsonObject => ({ name, type: eds ? 'EDS' : 'STATIC' }));
const claArb = fc.constantFrom(...CLUSTERS).map((c): JsonObject => ({ cluster_name: c, endpoints: [] }));
const secretArb = fc.constantFrom(...SECRETS).map((s): JsonObject => ({ name: s }));

/** The same objects mostly: a few elements replaced, added or removed, or a list of new copies. */
function edit<T>(arb: fc.Arbitrary<T>) {
  return fc.record({ kind: fc.constantFrom('keep', 'replace', 'add', 'remove', 'copy', 'reverse'), at: fc.nat(), value: arb });
}
const stepArb = fc.record({
  group: fc.constantFrom(0, 1),
  listeners: edit(listenerArb),
  routes: edit(fc.record({ name: fc.constantFrom(...ROUTES), vhosts: fc.array(vhostArb, { maxLength: 4 }), vhostEdit: edit(vhostArb), other: fc.option(fc.constantFrom(...CLUSTERS), { nil: undefined }) })),
  clusters: edit(clusterArb),
  endpoints: edit(claArb),
  secrets: edit(secretArb),
});

function applyEdit<T>(list: readonly T[], e: { kind: string; at: number; value: T }, copy: (x: T) => T): readonly T[] {
  const out = [...list];
  const i = out.length ? e.at % out.length : 0;
  switch (e.kind) {
    case 'keep':
      return e.at % 2 ? list : out;
    case 'replace':
      if (out.length) out[i] = e.value;
      else out.push(e.value);
      return out;
    case 'add':
      out.splice(i, 0, e.value);
      return out;
    case 'remove':
      out.splice(i, 1);
      return out;
    case 'copy':
      return out.map(copy);
    default:
      return out.reverse();
  }
}

/** A route configuration edit: its virtual hosts edited (a new RouteConfiguration object, most virtual hosts the same). */
function routeEdit(list: readonly JsonObject[], e: StepRoutes): readonly JsonObject[] {
  const out = [...list];
  const i = out.length ? e.at % out.length : 0;
  const make = (): JsonObject => ({ name: e.value.name, virtual_hosts: e.value.vhosts, ...(e.value.other ? { other: { cluster: e.value.other } } : {}) });
  switch (e.kind) {
    case 'keep':
      return list;
    case 'replace':
      if (out.length) {
        const old = out[i]!;
        out[i] = { ...old, virtual_hosts: applyEdit((old['virtual_hosts'] as JsonObject[]) ?? [], e.value.vhostEdit, (v) => structuredClone(v)) as JsonObject[] };
      } else out.push(make());
      return out;
    case 'add':
      out.splice(i, 0, make());
      return out;
    case 'remove':
      out.splice(i, 1);
      return out;
    case 'copy':
      return out.map((x) => structuredClone(x));
    default:
      return out.reverse();
  }
}
type StepRoutes = { kind: string; at: number; value: { name: string; vhosts: JsonObject[]; vhostEdit: { kind: string; at: number; value: JsonObject }; other: string | undefined } };

/** The whole check, written plainly. */
function reference(r: EnvoyResources): string[] {
  const name = (x: JsonObject) => String(x['name'] ?? x['cluster_name']);
  const routes = new Set(r.routes.map(name));
  const clusters = new Set(r.clusters.map(name));
  const secrets = new Set(r.secrets.map(name));
  const cla = new Set(r.endpoints.map(name));
  const problems: string[] = [];
  const walk = (v: unknown, visit: (k: string, x: unknown, parent: Record<string, unknown>) => void): void => {
    if (Array.isArray(v)) for (const e of v) walk(e, visit);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        visit(k, x, v as Record<string, unknown>);
        walk(x, visit);
      }
    }
  };
  for (const l of r.listeners) {
    walk(l, (k, x, parent) => {
      if (typeof x !== 'string') return;
      if (k === 'route_config_name' && !routes.has(x)) problems.push(`listener ${name(l)} refers to missing route configuration ${x}`);
      if (k === 'name' && 'sds_config' in parent && !secrets.has(x)) problems.push(`listener ${name(l)} refers to missing secret ${x}`);
      if (k === 'cluster' && !clusters.has(x)) problems.push(`listener ${name(l)} refers to missing cluster ${x}`);
    });
  }
  for (const rc of r.routes) {
    const { virtual_hosts: vhosts, ...rest } = rc;
    for (const part of [rest, ...((vhosts as JsonObject[]) ?? [])]) {
      walk(part, (k, x, parent) => {
        if (typeof x !== 'string' || clusters.has(x)) return;
        if (k === 'cluster') problems.push(`route configuration ${name(rc)} refers to missing cluster ${x}`);
        if (k === 'name' && 'weight' in parent) problems.push(`route configuration ${name(rc)} refers to missing weighted cluster ${x}`);
      });
    }
  }
  for (const c of r.clusters) if (c['type'] === 'EDS' && !cla.has(name(c))) problems.push(`cluster ${name(c)} has no endpoints resource`);
  return problems;
}

describe('checkConsistency (incremental)', () => {
  it('reports what a whole check reports, after any sequence of list edits in two groups', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (steps) => {
        const empty: EnvoyResources = { listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] };
        const groups: EnvoyResources[] = [empty, empty];
        for (const s of steps) {
          const g = groups[s.group]!;
          const next: EnvoyResources = {
            listeners: applyEdit(g.listeners, s.listeners, (x) => structuredClone(x)),
            routes: routeEdit(g.routes, s.routes as StepRoutes),
            clusters: applyEdit(g.clusters, s.clusters, (x) => ({ ...x })),
            endpoints: applyEdit(g.endpoints, s.endpoints, (x) => ({ ...x })),
            secrets: applyEdit(g.secrets, s.secrets, (x) => ({ ...x })),
          };
          groups[s.group] = next;
          expect(checkConsistency(next).sort()).toEqual(reference(next).sort());
        }
      }),
      { numRuns: 400 },
    );
  });

  it('reports a name that went missing from a list of the same objects otherwise', () => {
    const clusters = Array.from({ length: 50 }, (_, i): JsonObject => ({ name: `c${i}`, type: 'EDS' }));
    const endpoints = clusters.map((c): JsonObject => ({ cluster_name: c['name']!, endpoints: [] }));
    const vhosts = clusters.map((c, i): JsonObject => ({ name: `h${i}`, routes: [{ route: { cluster: c['name']! } }] }));
    const r: EnvoyResources = { listeners: [{ name: 'l', rds: { route_config_name: 'http' } }], routes: [{ name: 'http', virtual_hosts: vhosts }], clusters, endpoints, secrets: [] };
    expect(checkConsistency(r)).toEqual([]);
    const without = clusters.filter((_, i) => i !== 20);
    expect(checkConsistency({ ...r, clusters: without })).toEqual(['route configuration http refers to missing cluster c20']);
    expect(checkConsistency({ ...r, clusters: without, routes: [{ name: 'http', virtual_hosts: vhosts.filter((_, i) => i !== 20) }] })).toEqual([]);
    expect(checkConsistency({ ...r, endpoints: endpoints.slice(1) })).toEqual(['cluster c0 has no endpoints resource']);
    expect(checkConsistency(r)).toEqual([]);
  });

  it('checks per-route filter configs and HTTP filters shared by many objects wherever they are', () => {
    // One object per filter shared by many routes (an Ingress's per-route config) and by
    // many filter chains (TLS hosts with the same filters): their refs are kept per object.
    const perRoute: JsonObject = { '@type': 'type.googleapis.com/x.PerRoute', service: { cluster: 'auth' } };
    const httpFilter: JsonObject = { name: 'authz', typed_config: { '@type': 'type.googleapis.com/x.Filter', grpc_service: { cluster: 'authz' } } };
    const chain = (route: string): JsonObject => ({ filters: [{ typed_config: { rds: { route_config_name: route }, http_filters: [httpFilter, { name: 'router' }] } }] });
    const vhost = (i: number): JsonObject => ({
      name: `h${i}`,
      routes: [
        { name: `r${i}a`, route: { cluster: 'app' }, typed_per_filter_config: { authz: perRoute } },
        { name: `r${i}b`, route: { weighted_clusters: { clusters: [{ name: 'app', weight: 1, typed_per_filter_config: { authz: perRoute } }] } } },
      ],
      typed_per_filter_config: { authz: perRoute },
    });
    const cluster = (name: string): JsonObject => ({ name, type: 'STATIC' });
    const r: EnvoyResources = {
      listeners: [{ name: 'l', filter_chains: [chain('http'), chain('https/h0')] }],
      routes: [
        { name: 'http', virtual_hosts: [vhost(0), vhost(1), vhost(2)] },
        { name: 'https/h0', virtual_hosts: [vhost(3)] },
      ],
      clusters: ['app', 'auth', 'authz'].map(cluster),
      endpoints: [],
      secrets: [],
    };
    const same = (x: EnvoyResources) => expect([...new Set(checkConsistency(x))].sort()).toEqual([...new Set(reference(x))].sort());
    expect(checkConsistency(r)).toEqual([]);
    for (const group of ['shared-a', undefined]) {
      const check = (x: EnvoyResources) => (group ? checkConsistency(x, group) : checkConsistency(x));
      expect(check(r)).toEqual([]);
      const noAuth = { ...r, clusters: ['app', 'authz'].map(cluster) };
      expect([...new Set(check(noAuth))].sort()).toEqual(['route configuration http refers to missing cluster auth', 'route configuration https/h0 refers to missing cluster auth']);
      same(noAuth);
      const noAuthz = { ...r, clusters: ['app', 'auth'].map(cluster) };
      expect([...new Set(check(noAuthz))]).toEqual(['listener l refers to missing cluster authz']);
      same(noAuthz);
      expect(check(r)).toEqual([]);
      // A new per-route config object (another cluster) in one virtual host only.
      const other: JsonObject = { ...vhost(1), typed_per_filter_config: { authz: { '@type': 'type.googleapis.com/x.PerRoute', service: { cluster: 'auth2' } } } };
      const changed = { ...r, routes: [{ name: 'http', virtual_hosts: [vhost(0), other, vhost(2)] }, r.routes[1]!] };
      expect(check(changed)).toEqual(['route configuration http refers to missing cluster auth2']);
      same(changed);
      expect(check(r)).toEqual([]);
    }
  });
});
