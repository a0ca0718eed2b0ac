// B2 propagation through the real Envoy (benchmarks.md), the route-modification part:
// with N Ingresses served, change a canary's weight (10 ↔ 90) and measure the time from
// the manifest change to the new split being observed in traffic through Envoy.
//
// Two paths from the change into the control plane are measured:
// - `store`: the changed object handed to the Store, as a source does on a change (the
//   Kubernetes informers deliver an update within milliseconds); the manifest file is
//   written too, so the file source agrees;
// - `file`: only the manifest file is written (atomic rename) and the file source picks
//   it up — its watcher plus its 2 s safety-net poll.
// Detection: batches of 100 requests over keep-alive connections; the change is seen at
// the end of the first batch whose canary share is past the midpoint (50 %) towards the
// new weight (±40 points apart, so a batch cannot be mistaken). The timing resolution is
// one batch (reported as `batchMs`).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { silentLogger } from '../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../control-plane/src/pipeline/translate-store.js';
import { startControlPlane } from '../control-plane/src/serve.js';
import type { WatchedObject } from '../control-plane/src/sources/k8s-types.js';
import { startEnvoy } from '../envoy/runner.js';
import { startBackend } from '../scripts/example-backend.js';
import type { Benchmark, BenchContext, BenchOutcome } from './benchmark.js';
import { Traffic, share } from './b2-traffic.js';
import { freePorts } from './gateway.js';
import { round, stats, table } from './report.js';

const N_PREFIX = 'nginx.ingress.kubernetes.io/';
const HOST = 'b2-canary.example.com';

function ingress(name: string, host: string, service: string, annotations: Record<string, string> = {}): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: name.endsWith('-canary') ? '2024-01-02T00:00:00Z' : '2024-01-01T00:00:00Z', annotations },
    spec: { ingressClassName: 'xgate', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

function serviceObjects(name: string, host: string, port: number): Record<string, unknown>[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', ports: [{ name: 'http', port }], endpoints: [{ addresses: [host], conditions: { ready: true } }] },
  ];
}

const canary = (weight: number) => ingress('b2-canary', HOST, 'canary', { [`${N_PREFIX}canary`]: 'true', [`${N_PREFIX}canary-weight`]: String(weight) });

export const b2: Benchmark = {
  id: 'b2w',
  name: 'b2-weight',
  title: 'B2 propagation: canary weight change → new split observed through Envoy',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const sizes = ctx.sizes ?? (ctx.quick ? [100] : [1000]);
    const repeats = ctx.repeats ?? (ctx.quick ? 4 : 20);
    const fileRepeats = ctx.quick ? 2 : 6;
    const errors: string[] = [];
    const results: Record<string, unknown>[] = [];
    const rows: (string | number)[][] = [];
    for (const n of sizes) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-b2-'));
      const write = (file: string, docs: readonly Record<string, unknown>[]) => {
        const tmp = path.join(dir, `.${file}.tmp`);
        writeFileSync(tmp, docs.map((d) => stringify(d)).join('---\n'));
        renameSync(tmp, path.join(dir, file));
      };
      const web = await startBackend({ name: 'web', host: '127.0.0.2' });
      const canaryB = await startBackend({ name: 'canary', host: '127.0.0.3' });
      const traffic = new Traffic();
      let cp: Awaited<ReturnType<typeof startControlPlane>> | undefined;
      let envoy: Awaited<ReturnType<typeof startEnvoy>> | undefined;
      try {
        write('00-base.yaml', [
          { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'xgate' }, spec: { controller: 'xgate.io/ingress-controller' } },
          ...serviceObjects('web', web.host, web.port),
          ...serviceObjects('canary', canaryB.host, canaryB.port),
          ingress('b2', HOST, 'web'),
        ]);
        write('10-background.yaml', Array.from({ length: n }, (_, i) => ingress(`bg-${i}`, `bg-${i}.example.com`, 'web')));
        let weight = 10;
        write('20-canary.yaml', [canary(weight)]);
        const [httpPort, httpsPort, xdsPort] = (await freePorts(3)) as [number, number, number];
        cp = await startControlPlane(
          {
            manifests: dir,
            xds: { host: '127.0.0.1', port: xdsPort },
            admin: { host: '127.0.0.1', port: 0 },
            pipeline: { ...DEFAULT_PIPELINE_OPTIONS, ...(ctx.routeShards ? { routeShards: ctx.routeShards } : {}), bindAddress: '127.0.0.1', httpPort, httpsPort },
            logLevel: 'warn',
            debounceMs: 20,
            maxDelayMs: 500,
          },
          silentLogger(),
        );
        envoy = await startEnvoy({ xdsPort: cp.xdsPort, nodeId: `b2-${process.pid}` });
        await envoy.waitReady(60_000);
        await envoy.waitForListener('http', 60_000);
        const o = { port: httpPort, host: HOST, concurrency: 32 };
        await traffic.until((t) => share(t, 'canary') > 0 && share(t, 'canary') < 50, { ...o, since: performance.now(), batch: 200, timeoutMs: 30_000 });
        for (const via of ['store', 'file'] as const) {
          const samples: number[] = [];
          const batchMs: number[] = [];
          for (let i = 0; i < (via === 'store' ? repeats : fileRepeats); i++) {
            weight = weight === 10 ? 90 : 10;
            const next = canary(weight);
            const since = performance.now();
            write('20-canary.yaml', [next]);
            if (via === 'store') cp.store.upsert(next as unknown as WatchedObject);
            const up = weight === 90;
            const r = await traffic.until((t) => (up ? share(t, 'canary') > 50 : share(t, 'canary') < 50), { ...o, since, batch: 100, timeoutMs: 15_000 });
            samples.push(round(r.ms, 1));
            batchMs.push(round(r.tally.ms, 1));
            ctx.log(`b2 n=${n} via ${via}: weight → ${weight}: ${Math.round(r.ms)} ms`);
            await new Promise((res) => setTimeout(res, 100));
          }
          const s = stats(samples);
          results.push({ ingresses: n, via, samplesMs: samples, batchMs, ...s, batchMedianMs: stats(batchMs).median });
          rows.push([`${n} Ingresses, via ${via}`, samples.length, s.median, s.p90, s.min, s.max, stats(batchMs).median]);
        }
      } catch (e) {
        errors.push((e as Error).stack ?? String(e));
      } finally {
        traffic.close();
        await envoy?.stop();
        await cp?.close();
        await web.close();
        await canaryB.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return {
      parameters: { sizes, repeats, routeShards: ctx.routeShards ?? 1, fileRepeats, weights: [10, 90], detectionBatch: 100 },
      results,
      errors,
      summary: table(['weight change → traffic (ms)', 'runs', 'median', 'p90', 'min', 'max', 'batch'], rows),
    };
  },
};
