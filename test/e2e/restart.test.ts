// The control plane dies and comes back: Envoy keeps serving meanwhile, reconnects,
// and receives nothing it already has (versions are content hashes; delta xDS sends
// initial_resource_versions).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../../control-plane/src/pipeline/translate-store.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/src/serve.js';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy } from '../helpers/envoy.js';
import { freePorts } from '../helpers/ports.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-restart-'));
const running: RunningControlPlane[] = [];
afterAll(async () => {
  for (const cp of running) await cp.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});


describe('control-plane restart', () => {
  it('Envoy keeps serving while it is down and gets nothing new after it is back', async () => {
    const [web] = (await testBackends(['web'])) as [Backend];
    writeFileSync(path.join(dir, 'all.yaml'), [INGRESS_CLASS_YAML, serviceYaml('web', [web]), `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: app, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: app.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`].join('---\n'));
    const [xdsPort, httpPort, httpsPort] = (await freePorts(3)) as [number, number, number];
    const opts = {
      manifests: dir,
      xds: { host: '127.0.0.1', port: xdsPort },
      admin: { host: '127.0.0.1', port: 0 },
      pipeline: { ...DEFAULT_PIPELINE_OPTIONS, bindAddress: '127.0.0.1', httpPort, httpsPort },
      logLevel: 'warn' as const,
      debounceMs: 10,
      maxDelayMs: 200,
    };
    const first = await startControlPlane(opts, silentLogger());
    running.push(first);
    const envoy = await testEnvoy({ xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    const base = `http://127.0.0.1:${httpPort}`;
    expect((await request(`${base}/`, { host: 'app.example.com' })).echo?.backend).toBe('web');
    const updates = async () => {
      const s = await envoy.stats('update_success|update_rejected');
      return Object.fromEntries(Object.entries(s).filter(([k]) => /(cds|lds|rds|eds|sds)/.test(k) && !k.includes('xds_cluster')));
    };
    const before = await updates();

    await first.close();
    running.pop();
    // Down: Envoy serves from what it has.
    for (let i = 0; i < 20; i++) expect((await request(`${base}/`, { host: 'app.example.com' })).status).toBe(200);

    const second = await startControlPlane(opts, silentLogger());
    running.push(second);
    await eventually(async () => second.proxies.list().length === 1, 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await updates();
    // update_attempt counts stream (re)connections; update_success counts applied responses: none.
    expect(after).toEqual(before);
    const pushes = second.proxies.counters().byType;
    expect(Object.values(pushes).reduce((n, c) => n + c.pushes, 0)).toBe(0);
    expect((await request(`${base}/`, { host: 'app.example.com' })).echo?.backend).toBe('web');
  });
});
