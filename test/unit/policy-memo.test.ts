// The per-Ingress annotation memo (model/policy-memo.ts): reused while nothing the
// families read changed, re-read when a Secret or Service they read changes.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../control-plane/src/model/build.js';
import { DEFAULT_MODEL_OPTIONS } from '../../control-plane/src/model/options.js';
import type { WatchedObject } from '../../control-plane/src/sources/k8s-types.js';
import { Store } from '../../control-plane/src/sources/store.js';

const sha = (s: string): string => `{SHA}${createHash('sha1').update(s).digest('base64')}`;

function objects(secretUsers: string, mirrorPort: number): WatchedObject[] {
  return [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'xgate' }, spec: { controller: 'xgate.io/ingress-controller' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shadow', namespace: 'default', resourceVersion: String(mirrorPort) }, spec: { ports: [{ port: mirrorPort }] } },
    { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'users', namespace: 'default', resourceVersion: secretUsers }, data: { auth: Buffer.from(secretUsers).toString('base64') } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'shop',
        namespace: 'default',
        annotations: {
          'nginx.ingress.kubernetes.io/auth-type': 'basic',
          'nginx.ingress.kubernetes.io/auth-secret': 'users',
          'nginx.ingress.kubernetes.io/mirror-target-service': 'shadow',
        },
      },
      spec: { ingressClassName: 'xgate', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    },
  ] as unknown as WatchedObject[];
}

const policyOf = (m: ReturnType<typeof buildModel>) => m.model.virtualHosts.find((v) => v.host === 'shop.example.com')!.routes[0]!.policy;

describe('per-Ingress annotation memo', () => {
  it('reuses the policy while nothing read changed, and re-reads a changed Secret or Service', () => {
    const store = new Store();
    const kinds = ['Ingress', 'IngressClass', 'Service', 'EndpointSlice', 'Secret', 'Pod'] as const;
    store.replace(objects(`alice:${sha('a')}`, 8080), kinds);
    const first = buildModel(store.snapshot(), DEFAULT_MODEL_OPTIONS);
    const again = buildModel(store.snapshot(), DEFAULT_MODEL_OPTIONS);
    expect(policyOf(again)).toBe(policyOf(first));
    expect(again.diagnostics).toEqual(first.diagnostics);
    expect(first.diagnostics.filter((d) => d.level === 'error')).toEqual([]);

    // The Secret changes: the users change.
    const o2 = objects(`bob:${sha('b')}`, 8080);
    store.upsert(o2[3]!);
    const second = buildModel(store.snapshot(), DEFAULT_MODEL_OPTIONS);
    expect(policyOf(second)).not.toBe(policyOf(first));
    expect(JSON.stringify(policyOf(second))).toContain('bob');
    expect(JSON.stringify(policyOf(second))).not.toContain('alice');

    // The mirrored Service's port changes: the mirror cluster follows.
    store.upsert(objects(`bob:${sha('b')}`, 9090)[2]!);
    const third = buildModel(store.snapshot(), DEFAULT_MODEL_OPTIONS);
    expect(third.model.clusters.map((c) => c.name)).toContain('default/shadow/9090');
    expect(third.model.clusters.map((c) => c.name)).not.toContain('default/shadow/8080');

    // The same as a build in a fresh process would give (a store of new objects).
    const fresh = new Store();
    fresh.replace(objects(`bob:${sha('b')}`, 9090), kinds);
    const scratch = buildModel(fresh.snapshot(), DEFAULT_MODEL_OPTIONS);
    expect(JSON.stringify(scratch.model)).toBe(JSON.stringify(third.model));
    expect(scratch.diagnostics).toEqual(third.diagnostics);
  });
});
