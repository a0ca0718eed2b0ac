// Property-based (fast-check): random combinations of canary annotations under every
// prefix, with valid and invalid values, on several canaries per host+path (same and
// other namespaces, with and without a primary). Translation never throws, the result
// is consistent, every regex compiles with RE2 semantics, a rejected canary leaves its
// primary alone — and the real Envoy accepts every generated config (a bounded number
// of runs, many Ingresses per validation).
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { describe, expect, it } from 'vitest';
import { CANARY_KEYS, canaryMarker } from '../../control-plane/src/annotations/canary.js';
import { PREFIXES } from '../../control-plane/src/annotations/prefixes.js';
import { checkConsistency } from '../../control-plane/src/pipeline/consistency.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore } from '../../control-plane/src/pipeline/translate-store.js';
import type { WatchedObject } from '../../control-plane/src/sources/k8s-types.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import { validateWithEnvoy } from '../../envoy/validate.js';

const VALUES = [
  'true', 'false', 'True', '1', 'yes', '', ' ', 'always', 'never', 'x-canary', 'X-Canary', 'x_canary', 'host', 'a b', 'a;b', 'a\nb', '"q"', '{', '}',
  '(unclosed', '^(eu|us)-', '(?i)beta', 'a**', '\\C', '(?=x)', '.*', '[', 'g.1', '0', '1', '5', '50', '99', '100', '101', '-1', '1000', '1000000', '1000001',
  '99999999999', '1.5', 'abc', 'é', 'x'.repeat(300), '('.repeat(50), 'a{1000}', '(a|b|c|d|e|f|g|h|i|j)+x{20}',
];

const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 2000 }).map(String) },
);
const prefixes = Object.keys(PREFIXES) as (keyof typeof PREFIXES)[];
const annotation = fc.tuple(fc.constantFrom(...Object.keys(CANARY_KEYS)), fc.constantFrom(...prefixes), value).map(([k, p, v]) => [PREFIXES[p] + k, v] as const);
const canarySpec = fc.record({
  annotations: fc.array(annotation, { maxLength: 8 }).map((kv) => ({ [`${PREFIXES.N}canary`]: 'true', ...Object.fromEntries(kv) })),
  service: fc.constantFrom('v1', 'v2', 'ghost'),
  otherNamespace: fc.boolean(),
  exact: fc.boolean(),
});
const groupSpec = fc.record({ primary: fc.boolean(), canaries: fc.array(canarySpec, { minLength: 1, maxLength: 3 }) });
const worldSpec = fc.array(groupSpec, { minLength: 1, maxLength: 12 });

type World = typeof worldSpec extends fc.Arbitrary<infer T> ? T : never;

function objects(world: World): WatchedObject[] {
  const out: Record<string, unknown>[] = [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'xgate' }, spec: { controller: 'xgate.io/ingress-controller' } }];
  for (const ns of ['default', 'team-b']) {
    for (const svc of ['web', 'v1', 'v2']) {
      out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: svc, namespace: ns }, spec: { ports: [{ name: 'http', port: 80 }] } });
      out.push({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${svc}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': svc } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.0.0.1'] }] });
    }
  }
  const ing = (name: string, ns: string, host: string, service: string, annotations: Record<string, string>, ts: string, exact = false) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns, creationTimestamp: ts, annotations },
    spec: { ingressClassName: 'xgate', rules: [{ host, http: { paths: [{ path: '/app', pathType: exact ? 'Exact' : 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  });
  world.forEach((g, i) => {
    const host = `h${i}.example.com`;
    if (g.primary) out.push(ing(`p${i}`, 'default', host, 'web', { 'higress.io/timeout': '7' }, '2024-01-01T00:00:00Z'));
    g.canaries.forEach((c, j) => out.push(ing(`p${i}-c${j}`, c.otherNamespace ? 'team-b' : 'default', host, c.service, c.annotations, `2024-01-0${j + 2}T00:00:00Z`, c.exact)));
  });
  return out as unknown as WatchedObject[];
}

function translated(world: World) {
  return translateStore(snapshotOf(objects(world)), DEFAULT_PIPELINE_OPTIONS);
}

/** Every regex in the generated routes. */
function regexes(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => regexes(x, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === 'regex' && typeof x === 'string') out.push(x);
      else regexes(x, out);
    }
  }
  return out;
}

describe('canary annotations, property-based', () => {
  it('translation never throws, is consistent, compiles every regex, and never routes a rejected canary', () => {
    fc.assert(
      fc.property(worldSpec, (world) => {
        const r = translated(world);
        for (const group of ['envoy', 'grpc']) expect(checkConsistency(r.resources[group]!)).toEqual([]);
        for (const re of regexes(r.resources['envoy']!.routes)) RE2JS.compile(re);
        const rejected = new Set(r.diagnostics.filter((d) => d.code === 'XG_CANARY_INVALID').map((d) => d.object.name));
        const routed = new Set(r.model.virtualHosts.flatMap((vh) => vh.routes.map((rt) => rt.source.name)));
        for (const name of rejected) expect(routed.has(name)).toBe(false);
        world.forEach((g, i) => {
          const vh = r.model.virtualHosts.find((v) => v.host === `h${i}.example.com`);
          // A canary never answers for a host without a primary (an Ingress whose canary
          // annotation is false or empty is a primary).
          if (!g.primary && g.canaries.every((c) => canaryMarker(c.annotations) !== 'primary')) expect(vh).toBeUndefined();
          // Canary routes inherit the primary's policy (the primary p<i> sets a 7 s timeout).
          if (g.primary) for (const rt of vh!.routes) if (rt.match.path.type === 'Prefix') expect(rt.policy?.timeoutSeconds).toBe(7);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('the real Envoy accepts every generated config', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(groupSpec, { minLength: 20, maxLength: 30 }), async (world) => {
        const r = translated(world);
        const v = await validateWithEnvoy(r.resources['envoy']!);
        expect(v.message).toBe(v.ok ? v.message : '(accepted)');
      }),
      { numRuns: 30 },
    );
  }, 300_000);
});
