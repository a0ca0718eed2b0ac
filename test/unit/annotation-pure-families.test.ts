// Families that take the reader only (parse(r), no ctx) are run once per set of
// annotations and their parts shared: readIngressPolicy must give, for every Ingress,
// what running every family on it gives, diagnostics included.
import { describe, expect, it } from 'vitest';
import { pureFamilies, readIngressPolicy, type PolicyContext } from '../../control-plane/src/annotations/read.js';
import { resetSignatureMemos as resetPolicyParts } from '../../control-plane/src/annotations/signature-memo.js';
import { FAMILIES } from '../../control-plane/src/annotations/families.js';
import { AnnotationReader } from '../../control-plane/src/annotations/reader.js';
import { DiagnosticSink, type ObjectRef } from '../../control-plane/src/diagnostics.js';
import type { Ingress } from '../../control-plane/src/sources/k8s-types.js';

const fail = (what: string) => (): never => {
  throw new Error(`a family that takes no context used ${what}`);
};
const trapCtx = new Proxy({}, { get: (_t, p) => fail(`ctx.${String(p)}`)() });

const pctx: PolicyContext = {
  store: { ingresses: new Map(), ingressClasses: new Map(), services: new Map(), endpointSlices: new Map(), secrets: new Map(), pods: new Map() } as unknown as PolicyContext['store'],
  diagnosticsOnly: false,
  useBackend: () => ({ ok: false, code: 'XG_SERVICE_NOT_FOUND', message: 'no', servable: true }),
  external: () => undefined,
};

const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';
const sets: Record<string, string>[] = [
  { [`${N}whitelist-source-range`]: '10.0.0.0/8,192.168.0.0/16' },
  { [`${N}canary`]: 'true', [`${N}canary-weight`]: '20', [`${N}canary-by-header`]: 'x-canary', [`${N}whitelist-source-range`]: '10.0.0.0/8' },
  { [`${N}load-balance`]: 'ewma', [`${N}proxy-read-timeout`]: '30', [`${N}enable-cors`]: 'true', [`${N}cors-allow-origin`]: 'https://a.example.com' },
  { [`${N}whitelist-source-range`]: '10.0.0.0/33' }, // invalid: reported every time
  { [`${N}proxy-read-timeout`]: '30', [`${H}timeout`]: '5' }, // a key of a family with a typo next to it
  { [`${N}proxy-read-timout`]: '30' }, // unknown key
  { [`${N}limit-rps`]: '10', [`${N}ssl-redirect`]: 'false', [`${H}ignore-path-case`]: 'true' },
];

function ingress(name: string, annotations: Record<string, string>): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'ns', annotations },
    spec: { rules: [{ host: `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] },
  };
}

/** What running every family gives (the reference). */
function everyFamily(ing: Ingress, ref: ObjectRef): { policy: unknown; diagnostics: unknown } {
  const sink = new DiagnosticSink();
  const r = new AnnotationReader(ing.metadata.annotations ?? {}, ref, sink);
  const ctx = { ...pctx, ingress: ing, namespace: 'ns', ref };
  let route: Record<string, unknown> | undefined;
  let host: Record<string, unknown> | undefined;
  for (const f of FAMILIES) {
    const p = f.parse(r, ctx);
    if (p) route = { ...route, ...p };
    const h = f.parseHost?.(r, ctx);
    if (h) host = { ...host, ...h };
  }
  r.reportUnknown();
  return { policy: { ...(route ? { route } : {}), ...(host ? { host } : {}) }, diagnostics: sink.items };
}

describe('families run once per set of annotations', () => {
  it('are the ones that take no context, and use none', () => {
    const pure = pureFamilies();
    expect(pure).toContain('ip-access');
    expect(pure).toContain('load-balance');
    expect(pure).not.toContain('auth-external');
    for (const set of sets) {
      const ref: ObjectRef = { kind: 'Ingress', namespace: 'ns', name: 'x' };
      const r = new AnnotationReader(set, ref, new DiagnosticSink());
      for (const f of FAMILIES.filter((x) => pure.includes(x.name))) {
        expect(() => f.parse(r, trapCtx as never), f.name).not.toThrow();
        expect(() => f.parseHost?.(r, trapCtx as never), f.name).not.toThrow();
      }
    }
  });

  it('give every Ingress what running every family gives, diagnostics included', () => {
    resetPolicyParts();
    for (let round = 0; round < 3; round++) {
      sets.forEach((set, i) => {
        const name = `ing-${round}-${i}`;
        const ing = ingress(name, { ...set, 'meta.helm.sh/release-name': name });
        const ref: ObjectRef = { kind: 'Ingress', namespace: 'ns', name };
        const sink = new DiagnosticSink();
        const policy = readIngressPolicy(ing, ref, sink, pctx);
        const want = everyFamily(ing, ref);
        expect(policy, name).toEqual(want.policy);
        expect(sink.items, name).toEqual(want.diagnostics);
      });
    }
  });

  it('share the parts between Ingresses with the same annotations', () => {
    resetPolicyParts();
    const a = readIngressPolicy(ingress('a', sets[0]!), { kind: 'Ingress', namespace: 'ns', name: 'a' }, new DiagnosticSink(), pctx);
    const b = readIngressPolicy(ingress('b', sets[0]!), { kind: 'Ingress', namespace: 'ns', name: 'b' }, new DiagnosticSink(), pctx);
    expect(b).toEqual(a);
    expect(b.route?.ipAccess ?? b).toBe(a.route?.ipAccess ?? a);
  });
});

describe('canary configs', () => {
  const store = pctx.store;
  const canary = (name: string, annotations: Record<string, string>): Ingress => ingress(name, { [`${N}canary`]: 'true', ...annotations });

  it('are shared by canaries with the same annotations, and every invalid one reports', async () => {
    const { planCanary } = await import('../../control-plane/src/model/canary.js');
    resetPolicyParts();
    const a = planCanary(canary('a', { [`${N}canary-weight`]: '20' }), store, '*');
    const b = planCanary(canary('b', { [`${N}canary-weight`]: '20' }), store, '*');
    expect(a.config).toBeDefined();
    expect(b.config).toBe(a.config);
    expect(b.diagnostics).toEqual([]);
    const c = planCanary(canary('c', { [`${N}canary-weight`]: 'x' }), store, '*');
    const d = planCanary(canary('d', { [`${N}canary-weight`]: 'x' }), store, '*');
    expect(c.config).toBeUndefined();
    expect(c.diagnostics.map((x) => x.code)).toContain('XG_CANARY_INVALID');
    expect(d.diagnostics.map((x) => [x.code, x.object.name])).toContainEqual(['XG_CANARY_INVALID', 'd']);
  });
});
