// The controller reports the documents a build asks for, and a fetched document
// triggers a full rebuild (an OIDC route goes from 503 to the oauth2 filter).
import { describe, expect, it } from 'vitest';
import { Controller } from '../../control-plane/src/pipeline/controller.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../../control-plane/src/pipeline/translate-store.js';
import { Store } from '../../control-plane/src/sources/store.js';
import type { Ingress, Secret, Service } from '../../control-plane/src/sources/k8s-types.js';
import { MemoryCache } from '../../control-plane/src/xds/cache/memory-cache.js';
import { eventually } from '../helpers/wait.js';

const quiet = { info() {}, warn() {}, error() {} };
const issuer = 'https://idp.example.com';
const discovery = `${issuer}/.well-known/openid-configuration`;

const ing: Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop', namespace: 'default', resourceVersion: '1', annotations: { 'xgate.io/oidc-issuer': issuer, 'xgate.io/oidc-client-id': 'shop', 'xgate.io/oidc-client-secret': 'oidc' } },
  spec: { ingressClassName: 'xgate', rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
};
const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', resourceVersion: '1' }, spec: { ports: [{ name: 'http', port: 80 }] } };
const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'oidc', namespace: 'default', resourceVersion: '1' }, type: 'Opaque', stringData: { 'client-secret': 'x' } };

describe('controller and external documents', () => {
  it('reports wanted URLs and rebuilds fully when a document arrives', async () => {
    const store = new Store();
    store.upsert(svc);
    store.upsert(secret);
    store.upsert(ing);
    const wanted: string[][] = [];
    const builds: string[] = [];
    const c = new Controller({
      store,
      cache: new MemoryCache(),
      pipeline: DEFAULT_PIPELINE_OPTIONS,
      logger: quiet,
      debounceMs: 5,
      maxDelayMs: 50,
      hooks: { externalUrls: (u) => wanted.push([...u]), translated: (s) => builds.push(s) },
    });
    c.start();
    try {
      expect(wanted).toEqual([[discovery]]);
      const route = () => JSON.stringify(c.resources()!['envoy']!.routes);
      expect(route()).toContain('"status":503');
      store.setExternal({ ok: true, url: discovery, body: JSON.stringify({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token` }) });
      await eventually(async () => builds.length === 2, 5000);
      expect(builds).toEqual(['full', 'full']);
      expect(route()).not.toContain('"status":503');
      expect(JSON.stringify(c.resources()!['envoy']!.listeners)).toContain('envoy.extensions.filters.http.oauth2.v3.OAuth2');
      expect(wanted.at(-1)).toEqual([discovery]);
    } finally {
      c.stop();
    }
  });
});
