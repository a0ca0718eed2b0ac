// Every annotation family reads nothing and adds nothing when an Ingress carries none of
// its keys (AnnotationFamily's contract): readIngressPolicy skips the families for an
// Ingress without any key under our prefixes, and must give what running them gives.
import { describe, expect, it } from 'vitest';
import { readIngressPolicy, type PolicyContext } from '../../control-plane/src/annotations/read.js';
import { FAMILIES } from '../../control-plane/src/annotations/families.js';
import { AnnotationReader } from '../../control-plane/src/annotations/reader.js';
import { strayCanaryKeys } from '../../control-plane/src/annotations/canary.js';
import { DiagnosticSink, type ObjectRef } from '../../control-plane/src/diagnostics.js';
import type { Ingress } from '../../control-plane/src/sources/k8s-types.js';

const trap = (what: string) => (): never => {
  throw new Error(`a family used ${what} without any of its keys`);
};
const storeTrap = new Proxy({}, { get: (_t, p) => trap(`the store (${String(p)})`)() }) as PolicyContext['store'];
const pctx: PolicyContext = { store: storeTrap, diagnosticsOnly: false, useBackend: trap('useBackend'), external: trap('external') };

const ingresses: Ingress[] = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'plain', namespace: 'ns' }, spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'tls', namespace: 'ns', annotations: { 'meta.helm.sh/release-name': 'x', 'kubernetes.io/ingress.class': 'xgate', 'cert-manager.io/cluster-issuer': 'le', 'nginx.ingress.kubernetes.io': 'no key', 'higress.io': '' } },
    spec: {
      ingressClassName: 'xgate',
      tls: [{ hosts: ['b.example.com'], secretName: 'b-tls' }],
      defaultBackend: { service: { name: 'd', port: { name: 'http' } } },
      rules: [{ host: 'b.example.com', http: { paths: [{ path: '/api', pathType: 'Exact', backend: { service: { name: 's', port: { name: 'http' } } } }] } }],
    },
  },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'empty', namespace: 'ns', annotations: {} } },
];

describe('annotation families without their keys', () => {
  for (const ing of ingresses) {
    it(`add nothing and report nothing (${ing.metadata.name})`, () => {
      const ref: ObjectRef = { kind: 'Ingress', namespace: 'ns', name: ing.metadata.name };
      const sink = new DiagnosticSink();
      const r = new AnnotationReader(ing.metadata.annotations ?? {}, ref, sink);
      expect(r.isEmpty()).toBe(true);
      const ctx = { ...pctx, ingress: ing, namespace: 'ns', ref };
      for (const family of FAMILIES) {
        // Nothing at all: readIngressPolicy would otherwise have made an empty route or host policy.
        expect(family.parse(r, ctx), `${family.name}.parse`).toBeUndefined();
        expect(family.parseHost?.(r, ctx), `${family.name}.parseHost`).toBeUndefined();
      }
      r.reportUnknown();
      expect(sink.items).toEqual([]);
      const own = new DiagnosticSink();
      expect(readIngressPolicy(ing, ref, own, pctx)).toEqual({});
      expect(own.items).toEqual([]);
    });
  }

  it('still reads an Ingress with one key of ours', () => {
    const ing: Ingress = { ...ingresses[0]!, metadata: { name: 'one', namespace: 'ns', annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' } } };
    const sink = new DiagnosticSink();
    const policy = readIngressPolicy(ing, { kind: 'Ingress', namespace: 'ns', name: 'one' }, sink, pctx);
    expect(policy.route?.sslRedirect).toBe(false);
    expect(sink.items).toEqual([]);
  });

  it('finds stray canary keys by prefix and key, sorted (the canary key itself and keys of other products are not)', () => {
    expect(
      strayCanaryKeys({
        'nginx.ingress.kubernetes.io/canary-weight': '5',
        'higress.io/canary-by-query': 'x',
        'nginx.ingress.kubernetes.io/canary-by-query': 'x', // a Higress/MSE key: not one under N
        'mse.ingress.kubernetes.io/canary-by-cookie-value': 'v',
        'higress.io/canary-by-cookie-value': 'v', // MSE only
        'nginx.ingress.kubernetes.io/canary': 'false',
        'xgate.io/canary-by-header': 'h',
        'example.com/canary-weight': '1',
        'nginx.ingress.kubernetes.io/constructor': '1',
      }),
    ).toEqual(['higress.io/canary-by-query', 'mse.ingress.kubernetes.io/canary-by-cookie-value', 'nginx.ingress.kubernetes.io/canary-weight', 'xgate.io/canary-by-header']);
    expect(strayCanaryKeys({})).toEqual([]);
    expect(strayCanaryKeys(undefined)).toEqual([]);
  });
});
