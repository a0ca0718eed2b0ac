// Route shards (--route-shards, translate/route-shards.ts) through the real Envoy: the
// Lua filter's shard of every host must be the one the control plane put its virtual
// host in (else the host would answer 404 or reach the default backend), for exact
// hosts, one-label wildcards, ports and upper case in the Host header; the default
// backend answers in every shard; a change touches one shard's route configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, testBackends, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';
import { ROUTE_SHARD_HEADER, routeShardOf } from '../../control-plane/src/translate/route-shards.js';
import { ROUTE, SCOPED_ROUTE } from '../../control-plane/src/xds/type-urls.js';

const SHARDS = 8;
const HOSTS = 48;

function hostOf(i: number): string {
  return `h${i}.z${i % 11}.example.com`;
}

function ingresses(backendOf: (i: number) => string): string {
  const docs: string[] = [];
  for (let i = 0; i < HOSTS; i++) {
    docs.push(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ing-${i}, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: ${hostOf(i)}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: ${backendOf(i)}, port: { number: 80 } } } }
`);
  }
  for (let j = 0; j < 6; j++) {
    docs.push(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: wild-${j}, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: "*.w${j}.example.org"
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }
`);
  }
  docs.push(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: fallback, namespace: default }
spec:
  ingressClassName: xgate
  defaultBackend: { service: { name: fallback, port: { number: 80 } } }
`);
  return docs.join('---\n');
}

describe('route shards through the real Envoy', () => {
  let web: Backend, api: Backend, fallback: Backend;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  /** A second Envoy on state-of-the-world ADS (RDS and EDS responses carry only what changed); both bind the port (reuse_port). */
  let sotw: RunningEnvoy;
  let base: string;

  beforeAll(async () => {
    [web, api, fallback] = (await testBackends(['web', 'api', 'fallback'], { distinctHosts: true })) as [Backend, Backend, Backend];
    t = await testControlPlane(
      {
        '00-class.yaml': INGRESS_CLASS_YAML,
        '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('api', [api]), serviceYaml('fallback', [fallback])].join('---\n'),
        '20-ingress.yaml': ingresses((i) => (i % 2 ? 'api' : 'web')),
      },
      { routeShards: SHARDS },
    );
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    sotw = await testEnvoy({ xdsPort: t.cp.xdsPort, nodeId: 'sotw-envoy', xdsApi: 'sotw' });
    for (const e of [envoy, sotw]) {
      await e.waitReady(30_000);
      await e.waitForListener('http', 30_000);
    }
    base = `http://127.0.0.1:${t.httpPort}`;
  }, 60_000);

  afterAll(async () => {
    await envoy?.stop();
    await sotw?.stop();
  });

  it('spreads the hosts over the shards', () => {
    const used = new Set(Array.from({ length: HOSTS }, (_, i) => routeShardOf(hostOf(i), SHARDS)));
    expect(used.size).toBeGreaterThanOrEqual(5);
  });

  it('routes every host to its backend: the Lua shard is the control plane shard', async () => {
    for (let i = 0; i < HOSTS; i++) {
      const r = await request(`${base}/x`, { host: hostOf(i) });
      expect([hostOf(i), r.status, r.echo?.backend]).toEqual([hostOf(i), 200, i % 2 ? 'api' : 'web']);
      // The shard header is for Envoy only.
      expect(r.echo?.headers[ROUTE_SHARD_HEADER]).toBeUndefined();
    }
  });

  it('ignores the port and the case of the Host header', async () => {
    expect((await request(`${base}/`, { host: `${hostOf(3)}:${t.httpPort}` })).echo?.backend).toBe('api');
    expect((await request(`${base}/`, { host: hostOf(4).toUpperCase() })).echo?.backend).toBe('web');
    expect((await request(`${base}/`, { host: `${hostOf(5).toUpperCase()}:8080` })).echo?.backend).toBe('api');
  });

  it('matches one-label wildcards in their shard', async () => {
    for (let j = 0; j < 6; j++) {
      const r = await request(`${base}/`, { host: `a${j}.w${j}.example.org` });
      expect([j, r.echo?.backend]).toEqual([j, 'api']);
    }
  });

  it('sends unknown hosts to the default backend, whatever their shard', async () => {
    for (let k = 0; k < 24; k++) {
      const r = await request(`${base}/`, { host: `nobody${k}.q${k}.example.net` });
      expect([k, r.echo?.backend]).toEqual([k, 'fallback']);
    }
    // A client-sent shard header changes nothing: the filter overwrites it.
    expect((await request(`${base}/`, { host: hostOf(6), headers: { [ROUTE_SHARD_HEADER]: '9999' } })).echo?.backend).toBe('web');
  });

  it('changes one shard route configuration for a one-host change, and Envoy follows', async () => {
    const before = t.cp.cache.current('envoy');
    const rds = (id: string) => t.cp.proxies.list().find((p) => p.nodeId === id)?.types.rds?.acked?.version;
    const sotwBefore = rds('sotw-envoy');
    expect(sotwBefore).toBeDefined();
    t.write('20-ingress.yaml', ingresses((i) => (i === 0 ? 'api' : i % 2 ? 'api' : 'web')));
    // The SotW Envoy ACKed the new shard (it got that route configuration alone) …
    await eventually(async () => rds('sotw-envoy') !== sotwBefore, 15_000);
    await eventually(async () => (await request(`${base}/`, { host: hostOf(0) })).echo?.backend === 'api', 15_000);
    // … and every request answers as it should, whichever Envoy the connection lands on.
    for (let k = 0; k < 24; k++) {
      expect((await request(`${base}/`, { host: hostOf(0) })).echo?.backend).toBe('api');
      expect((await request(`${base}/`, { host: hostOf(2 + (k % 40)) })).echo?.backend).toBe(k % 2 ? 'api' : 'web');
    }
    const after = t.cp.cache.current('envoy');
    expect(before && after).toBeTruthy();
    {
      const changed = [...after!.types[ROUTE].resources].filter(([name, r]) => before!.types[ROUTE].resources.get(name)?.version !== r.version).map(([name]) => name);
      expect(changed).toEqual([`http/${routeShardOf(hostOf(0), SHARDS)}`]);
      expect(after!.types[SCOPED_ROUTE].version).toBe(before!.types[SCOPED_ROUTE].version);
    }
  });
});
