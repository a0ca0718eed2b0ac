// If Envoy ever NACKs what xgate sends, the proxy keeps its last good config, the
// server does not re-push the bad version, and xgate says so loudly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';

const ingress = (svc: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: app, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: app.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: ${svc}, port: { number: 80 } } } }
`;


describe('a NACK from the real Envoy', () => {
  let a: Backend, b: Backend;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;

  beforeAll(async () => {
    [a, b] = (await testBackends(['a', 'b'])) as [Backend, Backend];
    t = await testControlPlane({ 'class.yaml': INGRESS_CLASS_YAML, 'svc.yaml': [serviceYaml('a', [a]), serviceYaml('b', [b])].join('---\n'), 'ing.yaml': ingress('a') });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
  });

  afterAll(async () => {
    await envoy?.stop();
  });

  it('keeps the last good config, is reported, is not re-pushed, and clears on the next good version', async () => {
    const base = `http://127.0.0.1:${t.httpPort}`;
    expect((await request(`${base}/`, { host: 'app.example.com' })).echo?.backend).toBe('a');

    // Publish, behind the controller's back, a snapshot whose route config Envoy rejects.
    const good = t.cp.controller.resources()!['envoy']!;
    const badRoutes = good.routes.map((r) => {
      const copy = structuredClone(r) as JsonObject & { virtual_hosts: Array<{ routes: Array<{ match: JsonObject }> }> };
      copy.virtual_hosts[0]!.routes[0]!.match = { safe_regex: { regex: '/((' } };
      return copy as JsonObject;
    });
    t.cp.cache.set('envoy', new SnapshotEncoder().build({ ...good, routes: badRoutes }));

    const diagnosticsUrl = `http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`;
    await eventually(async () => JSON.stringify(await (await fetch(diagnosticsUrl)).json()).includes('XG_XDS_NACK'));
    const rejected = async () => Object.values(await envoy.stats('update_rejected')).reduce((x, y) => x + y, 0);
    expect(await rejected()).toBe(1);
    // Last good config still serves.
    expect((await request(`${base}/`, { host: 'app.example.com' })).echo?.backend).toBe('a');
    const proxies = (await (await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/proxies`)).json()) as { proxies: unknown[] };
    expect(JSON.stringify(proxies)).toContain('missing )');
    const metrics = await (await fetch(`http://127.0.0.1:${t.cp.adminPort}/metrics`)).text();
    expect(metrics).toMatch(/xgate_xds_nacks_total\{[^}]*type="rds"[^}]*\} 1/);
    // Not re-pushed in a loop.
    await new Promise((r) => setTimeout(r, 500));
    expect(await rejected()).toBe(1);

    // A real change produces a good snapshot again: accepted, and the report clears.
    t.write('ing.yaml', ingress('b'));
    await eventually(async () => (await request(`${base}/`, { host: 'app.example.com' })).echo?.backend === 'b');
    await eventually(async () => !JSON.stringify(await (await fetch(diagnosticsUrl)).json()).includes('XG_XDS_NACK'));
  });
});
