import { describe, expect, it } from 'vitest';
import { Controller } from '../../control-plane/src/pipeline/controller.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../../control-plane/src/pipeline/translate-store.js';
import { Store } from '../../control-plane/src/sources/store.js';
import type { Ingress, Service, EndpointSlice } from '../../control-plane/src/sources/k8s-types.js';
import { MemoryCache } from '../../control-plane/src/xds/cache/memory-cache.js';
import { ENDPOINT, ROUTE, CLUSTER } from '../../control-plane/src/xds/type-urls.js';

const quiet = { info() {}, warn() {}, error() {} };

function ingress(host: string, rv = '1'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: host.split('.')[0]!, namespace: 'default', resourceVersion: rv },
    spec: { ingressClassName: 'xgate', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  };
}
const svc: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', resourceVersion: '1' }, spec: { ports: [{ name: 'http', port: 80 }] } };
function slice(ip: string, rv: string): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'default', resourceVersion: rv, labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
  };
}

function setup(debounceMs: number, maxDelayMs: number) {
  const store = new Store();
  store.upsert(svc);
  store.upsert(slice('10.0.0.1', '1'));
  store.upsert(ingress('a.example.com'));
  const cache = new MemoryCache();
  const builds: string[] = [];
  const c = new Controller({ store, cache, pipeline: DEFAULT_PIPELINE_OPTIONS, logger: quiet, debounceMs, maxDelayMs, hooks: { translated: (scope) => builds.push(scope) } });
  c.start();
  return { store, cache, c, builds };
}

describe('controller', () => {
  it('publishes a first snapshot on start and is then ready', () => {
    const { cache, c, builds } = setup(10, 100);
    expect(c.isReady()).toBe(true);
    expect(cache.current('envoy')).toBeDefined();
    expect(cache.current('grpc')).toBeDefined();
    expect(builds).toEqual(['full']);
    c.stop();
  });

  it('coalesces a burst into one build', async () => {
    const { store, c, builds } = setup(30, 1000);
    for (let i = 0; i < 20; i++) store.upsert(ingress(`h${i}.example.com`));
    await c.nextBuild();
    expect(builds).toEqual(['full', 'full']);
    c.stop();
  });

  it('builds within the maximum delay even while changes keep coming', async () => {
    const { store, c, builds } = setup(50, 120);
    const started = Date.now();
    let i = 0;
    const timer = setInterval(() => store.upsert(ingress(`k${i++}.example.com`)), 10);
    await c.nextBuild();
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(builds.length).toBe(2);
    c.stop();
  });

  it('rebuilds only endpoints when only EndpointSlices change, leaving routes and clusters as they were', async () => {
    const { store, cache, c, builds } = setup(5, 50);
    const before = cache.current('envoy')!;
    store.upsert(slice('10.0.0.2', '2'));
    await c.nextBuild();
    const after = cache.current('envoy')!;
    expect(builds).toEqual(['full', 'endpoints']);
    expect(after.types[ENDPOINT].version).not.toBe(before.types[ENDPOINT].version);
    expect(after.types[ROUTE].version).toBe(before.types[ROUTE].version);
    expect(after.types[CLUSTER].version).toBe(before.types[CLUSTER].version);
    expect(after.types[ROUTE].resources.get('http')).toBe(before.types[ROUTE].resources.get('http'));
    c.stop();
  });

  it('publishes nothing new for a no-op change', async () => {
    const { store, cache, c } = setup(5, 50);
    const before = cache.current('envoy')!;
    store.upsert(ingress('a.example.com', '2')); // new resourceVersion, same content
    await c.nextBuild();
    expect(cache.current('envoy')).toBe(before);
    c.stop();
  });
});
