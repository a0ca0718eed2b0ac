import { describe, expect, it } from 'vitest';
import { Controller, LARGE_HTTP_HOSTS } from '../../control-plane/src/pipeline/controller.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../../control-plane/src/pipeline/translate-store.js';
import { Store } from '../../control-plane/src/sources/store.js';
import { WATCHED_KINDS } from '../../control-plane/src/sources/k8s-types.js';
import { generate } from '../../bench/generate.js';
import { benchCert } from '../../bench/cert.js';
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
    // No proxyless client yet: its group is not built.
    expect(cache.current('grpc')).toBeUndefined();
    expect([...c.builtGroups()]).toEqual(['envoy']);
    expect(builds).toEqual(['full']);
    c.stop();
  });

  it('builds the proxyless gRPC group once a stream of it starts, and keeps building it', async () => {
    const { store, cache, c, builds } = setup(5, 50);
    const envoyBefore = cache.current('envoy')!;
    cache.demand('grpc');
    cache.demand('grpc');
    await c.nextBuild();
    expect(builds).toEqual(['full', 'full']);
    const grpc = cache.current('grpc')!;
    expect([...grpc.types['type.googleapis.com/envoy.config.listener.v3.Listener'].resources.keys()]).toEqual(['a.example.com']);
    // The Envoy group's snapshot is the same (nothing pushed to Envoy for it).
    expect(cache.current('envoy')!.version).toBe(envoyBefore.version);
    store.upsert(slice('10.0.0.2', '2'));
    await c.nextBuild();
    expect(builds).toEqual(['full', 'full', 'endpoints']);
    expect(cache.current('grpc')!.types[ENDPOINT].version).not.toBe(grpc.types[ENDPOINT].version);
    // A group translation does not know is not built (and does not cost a build).
    cache.demand('other');
    expect([...c.builtGroups()].sort()).toEqual(['envoy', 'grpc']);
    c.stop();
  });

  it('builds the groups demanded before it started from the first build', () => {
    const store = new Store();
    store.upsert(svc);
    store.upsert(slice('10.0.0.1', '1'));
    store.upsert(ingress('a.example.com'));
    const cache = new MemoryCache();
    cache.demand('grpc');
    const c = new Controller({ store, cache, pipeline: DEFAULT_PIPELINE_OPTIONS, logger: quiet });
    c.start();
    expect(cache.current('grpc')).toBeDefined();
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

  it('warms the pipeline up without publishing, and later changes build as they would have', async () => {
    const gen = generate({ ingresses: 120, cert: benchCert(), seed: 5 });
    const store = new Store();
    store.replace(gen.objects, WATCHED_KINDS);
    const cache = new MemoryCache();
    const published: string[] = [];
    const c = new Controller({ store, cache, pipeline: DEFAULT_PIPELINE_OPTIONS, logger: quiet, debounceMs: 5, maxDelayMs: 50, warmUpMs: 0, warmUpMinIngresses: 0, hooks: { published: (_g, s) => published.push(s.version) } });
    c.start();
    const first = cache.current('envoy')!;
    expect(published).toEqual([first.version]);
    // Below the size it is meant for, no warm-up.
    const small = new Controller({ store, cache: new MemoryCache(), pipeline: DEFAULT_PIPELINE_OPTIONS, logger: quiet, warmUpMs: 0 });
    small.start();
    expect(small.warmUp()).toBe(false);
    small.stop();
    const before = JSON.stringify(c.resources());
    expect(c.warmUp()).toBe(true);
    // Nothing published, nothing in the store, the same resources.
    expect(published).toEqual([first.version]);
    expect(cache.current('envoy')).toBe(first);
    expect([...store.snapshot().ingresses.keys()].some((k) => k.includes('warm-up'))).toBe(false);
    expect(JSON.stringify(c.resources())).toBe(before);
    // Changes after it: what a controller without a warm-up publishes, version for version.
    const other = new Store();
    other.replace(gen.objects, WATCHED_KINDS);
    const otherCache = new MemoryCache();
    const o = new Controller({ store: other, cache: otherCache, pipeline: DEFAULT_PIPELINE_OPTIONS, logger: quiet, debounceMs: 5, maxDelayMs: 50, warmUpMs: 0 });
    o.start();
    const edits: ((s: Store) => void)[] = [
      (s) => s.upsert(ingress('warm-a.example.com')),
      (s) => s.upsert(svc),
      (s) => s.upsert(slice('10.0.0.9', '2')),
      (s) => s.remove('Ingress', `${gen.ingresses[0]!.metadata.namespace}/${gen.ingresses[0]!.metadata.name}`),
    ];
    for (const edit of edits) {
      edit(store);
      c.flush();
      edit(other);
      o.flush();
      expect(cache.current('envoy')!.version).toBe(otherCache.current('envoy')!.version);
      expect(JSON.stringify(c.resources())).toBe(JSON.stringify(o.resources()));
      expect(c.warmUp()).toBe(true); // and again after each: still no publish, still the same
      expect(cache.current('envoy')!.version).toBe(otherCache.current('envoy')!.version);
    }
    c.stop();
    o.stop();
  });
});

describe('route shard advice', () => {
  it('warns once when the one http route configuration passes LARGE_HTTP_HOSTS, not with route shards', async () => {
    const warned: unknown[] = [];
    const logger = { info() {}, error() {}, warn: (o: unknown, msg?: string) => warned.push([o, msg]) };
    const store = new Store();
    store.upsert(svc);
    store.upsert(slice('10.0.0.1', '1'));
    for (let i = 0; i < LARGE_HTTP_HOSTS - 1; i++) store.upsert(ingress(`h${i}.example.com`));
    const c = new Controller({ store, cache: new MemoryCache(), pipeline: DEFAULT_PIPELINE_OPTIONS, logger, debounceMs: 5, maxDelayMs: 50, warmUpMs: 0 });
    c.start();
    expect(warned).toEqual([]);
    store.upsert(ingress('last.example.com'));
    await c.nextBuild();
    expect(warned).toHaveLength(1);
    expect(warned[0]).toEqual([{ hosts: LARGE_HTTP_HOSTS, routeConfiguration: 'http' }, expect.stringContaining('--route-shards 256')]);
    store.upsert(ingress('more.example.com'));
    await c.nextBuild();
    expect(warned).toHaveLength(1);
    c.stop();

    const sharded: unknown[] = [];
    const s2 = new Controller({ store, cache: new MemoryCache(), pipeline: { ...DEFAULT_PIPELINE_OPTIONS, routeShards: 8 }, logger: { ...logger, warn: (o: unknown) => sharded.push(o) }, warmUpMs: 0 });
    s2.start();
    expect(sharded).toEqual([]);
    s2.stop();
  });
});
