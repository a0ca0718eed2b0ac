// The Kubernetes source through the real client-node informers against the stand-in
// API server: initial sync, normalised objects, watch events, dropped watches, 410 Gone.
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { silentLogger, createLogger } from '../../control-plane/src/log.js';
import { KubeSource } from '../../control-plane/src/sources/kube/kube-source.js';
import { Store } from '../../control-plane/src/sources/store.js';
import { testApiServer, type TestApiServer } from '../helpers/fake-apiserver.js';
import { INGRESS_CLASS, endpointSlice, eventually, ingress, secret, service } from './objects.js';

const logger = process.env['XGATE_TEST_LOG'] ? createLogger({ level: 'debug' }) : silentLogger();
const sources: KubeSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
});

function kubeSource(api: TestApiServer, store: Store, namespaces: string[] = []): KubeSource {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(api.kubeconfigFile);
  const s = new KubeSource({ kubeConfig, sink: store, namespaces, logger, backoff: { initialMs: 50, maxMs: 400 } });
  sources.push(s);
  return s;
}

async function seeded(): Promise<TestApiServer> {
  const api = await testApiServer();
  api.apply(INGRESS_CLASS);
  api.apply(service('web'));
  api.apply(endpointSlice('web-1', 'web', [{ host: '127.0.0.2', port: 8080 }]));
  api.apply(ingress('shop', 'shop.example.com', [{ service: 'web' }]));
  api.apply(secret('shop-tls', 'kubernetes.io/tls', { 'tls.crt': 'CERT', 'tls.key': 'KEY' }));
  api.apply(secret('db-password', 'Opaque', { password: 'hunter2' }));
  api.apply(secret('htpasswd', 'kubernetes.io/basic-auth', { username: 'u', password: 'p' }));
  api.apply(secret('sh.helm.release.v1.shop.v1', 'helm.sh/release.v1', { release: 'H4sI' }));
  api.apply(secret('registry', 'kubernetes.io/dockerconfigjson', { '.dockerconfigjson': '{}' }));
  return api;
}

describe('kube source', () => {
  it('lists every kind, normalises objects to the API shape, and reads only TLS, Opaque and basic-auth Secrets', async () => {
    const api = await seeded();
    const store = new Store();
    const src = kubeSource(api, store);
    src.start();
    await src.synced();
    const snap = store.snapshot();
    expect([...snap.ingressClasses.keys()]).toEqual(['xgate']);
    expect([...snap.services.keys()]).toEqual(['default/web']);
    expect([...snap.endpointSlices.keys()]).toEqual(['default/web-1']);
    expect([...snap.ingresses.keys()]).toEqual(['default/shop']);
    expect([...snap.secrets.keys()].sort()).toEqual(['default/db-password', 'default/htpasswd', 'default/shop-tls']);
    const ing = snap.ingresses.get('default/shop')!;
    expect(ing.kind).toBe('Ingress');
    expect(ing.apiVersion).toBe('networking.k8s.io/v1');
    expect(ing.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ing.metadata.resourceVersion).toBe(api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop')!['metadata']['resourceVersion']);
    expect(Object.getPrototypeOf(ing)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(ing.spec)).toBe(Object.prototype);
    const s = snap.secrets.get('default/shop-tls')!;
    expect(s.data?.['tls.crt']).toBe(Buffer.from('CERT').toString('base64'));
    // The Secret list and watch carry the field selector that leaves out Helm releases and
    // service account tokens; other types (dockerconfigjson) are dropped on arrival.
    const secretReqs = api.requests({ resource: 'secrets' });
    expect(secretReqs.length).toBeGreaterThanOrEqual(1);
    expect(secretReqs.every((r) => r.query['fieldSelector'] === 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token')).toBe(true);
  });

  it('follows watch events: add, update, delete', async () => {
    const api = await seeded();
    const store = new Store();
    const src = kubeSource(api, store);
    src.start();
    await src.synced();
    await eventually(() => api.openWatches() === 5, 5000, 'all watches open');
    api.apply(service('api'));
    await eventually(() => store.snapshot().services.has('default/api'));
    api.apply({ ...service('api'), spec: { ports: [{ name: 'http', port: 81 }] } });
    await eventually(() => store.snapshot().services.get('default/api')?.spec?.ports?.[0]?.port === 81);
    api.remove('v1', 'Service', 'default', 'api');
    await eventually(() => !store.snapshot().services.has('default/api'));
    // Watch events carry the same normalised shape as list items.
    api.apply(ingress('cart', 'cart.example.com', [{ service: 'web' }]));
    const cart = await eventually(() => store.snapshot().ingresses.get('default/cart'));
    expect(cart.kind).toBe('Ingress');
    expect(cart.metadata.creationTimestamp).toMatch(/Z$/);
    // A Secret of a kept type appears; one that changes to a type xgate does not read
    // disappears (client-side filter), and comes back when it changes back.
    api.apply(secret('jwks', 'Opaque', { 'jwks.json': '{}' }));
    await eventually(() => store.snapshot().secrets.has('default/jwks'));
    api.apply(secret('jwks', 'kubernetes.io/dockerconfigjson', { '.dockerconfigjson': '{}' }));
    await eventually(() => !store.snapshot().secrets.has('default/jwks'));
    api.apply(secret('jwks', 'kubernetes.io/tls', { 'tls.crt': 'C', 'tls.key': 'K' }));
    await eventually(() => store.snapshot().secrets.has('default/jwks'));
    // A Helm release Secret never reaches the store (left out by the API server).
    api.apply(secret('sh.helm.release.v1.cart.v1', 'helm.sh/release.v1', { release: 'x' }));
    api.apply(secret('marker', 'Opaque', { x: 'y' }));
    await eventually(() => store.snapshot().secrets.has('default/marker'));
    expect(store.snapshot().secrets.has('default/sh.helm.release.v1.cart.v1')).toBe(false);
  });

  it('gives an object the same shape whether it came from a list or a watch event', async () => {
    const api = await seeded();
    const store = new Store();
    const src = kubeSource(api, store);
    src.start();
    await src.synced();
    await eventually(() => api.openWatches() === 5);
    const listed = store.snapshot().ingresses.get('default/shop')!;
    // A status-only change arrives as a watch event (raw JSON, the server's key order).
    const cur = api.get('networking.k8s.io/v1', 'Ingress', 'default', 'shop')!;
    api.apply({ ...cur, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } });
    const watched = await eventually(() => (store.snapshot().ingresses.get('default/shop')!.metadata.resourceVersion !== listed.metadata.resourceVersion ? store.snapshot().ingresses.get('default/shop') : undefined));
    expect(JSON.stringify(watched.spec)).toBe(JSON.stringify(listed.spec));
    expect(Object.keys(watched.metadata)).toEqual(Object.keys(listed.metadata));
  });

  it('reconnects after dropped watches and receives what changed meanwhile', async () => {
    const api = await seeded();
    const store = new Store();
    const src = kubeSource(api, store);
    src.start();
    await src.synced();
    await eventually(() => api.openWatches() === 5);
    api.outage(true);
    api.apply(service('while-down'));
    await new Promise((r) => setTimeout(r, 300));
    expect(store.snapshot().services.has('default/while-down')).toBe(false);
    api.outage(false);
    await eventually(() => store.snapshot().services.has('default/while-down'), 10_000, 'change made while the watch was down arrives');
    const lists = Object.values(src.stats()).reduce((n, s) => n + s.lists, 0);
    // Resumed from the last resourceVersion: no relist was needed.
    expect(lists).toBe(5);
    expect(Object.values(src.stats()).reduce((n, s) => n + s.errors, 0)).toBeGreaterThan(0);
  });

  it('relists on 410 Gone and applies deletions that happened while the watch was gone', async () => {
    const api = await seeded();
    const store = new Store();
    const src = kubeSource(api, store);
    src.start();
    await src.synced();
    await eventually(() => api.openWatches() === 5);
    api.outage(true);
    api.remove('networking.k8s.io/v1', 'Ingress', 'default', 'shop');
    api.apply(ingress('new', 'new.example.com', [{ service: 'web' }]));
    api.compact();
    api.outage(false);
    await eventually(() => store.snapshot().ingresses.has('default/new') && !store.snapshot().ingresses.has('default/shop'), 10_000, 'relist');
    // Watches: the first, the one answered with an ERROR 410 event, the one after the relist.
    await eventually(() => api.requests({ verb: 'watch', resource: 'ingresses' }).filter((r) => r.status === 200).length >= 3, 5000, 'watch again');
    const ingressLists = api.requests({ verb: 'list', resource: 'ingresses' }).filter((r) => r.status === 200);
    expect(ingressLists.length).toBe(2);
  });

  it('relists when a live watch is told its resourceVersion expired', async () => {
    const api = await seeded();
    const store = new Store();
    const src = kubeSource(api, store);
    src.start();
    await src.synced();
    await eventually(() => api.openWatches() === 5);
    // An Ingress change moves the global resourceVersion past what the Service watch has
    // seen; after compaction, the Service watch's resourceVersion is too old. A graceful
    // end makes the client re-watch at once from it: the server answers ERROR 410.
    api.apply(ingress('bump', 'bump.example.com', [{ service: 'web' }]));
    api.compact();
    api.dropWatches({ graceful: true });
    await eventually(() => api.requests({ verb: 'list', resource: 'services' }).length === 2, 5000, 'services relisted');
    expect(api.requests({ verb: 'list', resource: 'ingresses' }).length).toBe(1);
    api.apply(service('later'));
    await eventually(() => store.snapshot().services.has('default/later'));
  });

  it('reports synced only after every initial list completed', async () => {
    const api = await seeded();
    api.setLatency(600, { verbs: ['list'], resource: 'endpointslices' });
    const store = new Store();
    const src = kubeSource(api, store);
    const t0 = Date.now();
    src.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(src.isSynced()).toBe(false);
    expect(src.pending()).toEqual(['EndpointSlice']);
    await src.synced();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(590);
    expect(store.snapshot().endpointSlices.size).toBe(1);
  });

  it('watches only the given namespaces', async () => {
    const api = await seeded();
    api.apply(service('other', { namespace: 'team-b' }));
    api.apply(service('skipped', { namespace: 'team-c' }));
    const store = new Store();
    const src = kubeSource(api, store, ['default', 'team-b']);
    src.start();
    await src.synced();
    expect([...store.snapshot().services.keys()].sort()).toEqual(['default/web', 'team-b/other']);
    expect(api.requests({ verb: 'list', resource: 'secrets' }).map((r) => r.namespace).sort()).toEqual(['default', 'team-b']);
    // IngressClass is cluster-scoped: one informer.
    expect(src.reflectors.filter((r) => r.name.startsWith('IngressClass')).length).toBe(1);
  });

  it('holds no connection after stop, even when stopped while a list or a watch request is in flight', async () => {
    const api = await seeded();
    api.setLatency(300, { verbs: ['list'] });
    const a = kubeSource(api, new Store());
    a.start();
    await new Promise((r) => setTimeout(r, 50));
    await a.stop();
    api.clearLatency();
    api.setLatency(300, { verbs: ['watch'] });
    const b = kubeSource(api, new Store());
    b.start();
    await b.synced();
    await b.stop();
    await new Promise((r) => setTimeout(r, 700));
    expect(api.openWatches()).toBe(0);
  });
});
