// Lossless endpoint changes through the real Envoy, under load (≥ 200 requests/s on
// several keep-alive connections): a rolling replacement (3 rounds: a new backend
// starts and is added; the old endpoint becomes serving+terminating → DRAINING, then
// leaves; the old backend exits after a grace period) and a scale-down from 4 to 1.
// Pass only with zero non-2xx answers and zero connection errors over each whole run.
// Also measured: requests a DRAINING host still gets after Envoy ACKed its state.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackend, type Backend } from '../helpers/backends.js';
import { testControlPlane, INGRESS_CLASS_YAML, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const HOST = 'lossless.example.com';
const GRACE_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type State = 'ready' | 'draining';

function manifests(eps: ReadonlyArray<{ b: Backend; state: State }>): string {
  // One slice per backend (each has its own port, as in test/helpers/control-plane.ts).
  const slices = eps.map(
    ({ b, state }, i) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-${i}, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: ${b.port} }]
endpoints:
  - addresses: ["${b.host}"]
    conditions: ${state === 'ready' ? '{ ready: true, serving: true, terminating: false }' : '{ ready: false, serving: true, terminating: true }'}
`,
  );
  return `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  ports: [{ name: http, port: 80 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: default }
spec:
  ingressClassName: xgate
  rules:
    - host: ${HOST}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
${slices.join('')}`;
}

export interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  byBackend: Map<string, number>;
  samples: string[];
  seconds: number;
  rps: number;
}

/** Keep-alive load: `connections` loops, each paced to `rpsPerConnection`. */
export function startLoad(port: number, connections: number, rpsPerConnection: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const res: LoadResult = { ok: 0, non2xx: 0, errors: 0, byBackend: new Map(), samples: [], seconds: 0, rps: 0 };
  let stop = false;
  const t0 = Date.now();
  const one = () =>
    new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const backend = String(r.headers['x-backend'] ?? '');
          if ((r.statusCode ?? 0) >= 200 && (r.statusCode ?? 0) < 300 && backend) {
            res.ok++;
            res.byBackend.set(backend, (res.byBackend.get(backend) ?? 0) + 1);
          } else {
            res.non2xx++;
            if (res.samples.length < 5) res.samples.push(`${r.statusCode} ${Buffer.concat(chunks).toString().slice(0, 100)}`);
          }
          resolve();
        });
        r.on('error', (e) => {
          res.errors++;
          if (res.samples.length < 5) res.samples.push(String(e));
          resolve();
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        res.errors++;
        if (res.samples.length < 5) res.samples.push(String(e));
        resolve();
      });
      req.end();
    });
  const interval = 1000 / rpsPerConnection;
  const loop = async () => {
    let next = Date.now();
    while (!stop) {
      await one();
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  };
  const loops = Array.from({ length: connections }, loop);
  return {
    result: res,
    async stop(): Promise<LoadResult> {
      stop = true;
      await Promise.all(loops);
      agent.destroy();
      res.seconds = (Date.now() - t0) / 1000;
      res.rps = Math.round((res.ok + res.non2xx + res.errors) / res.seconds);
      return res;
    },
  };
}

describe('lossless endpoint changes under load (real Envoy)', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let next = 10;
  const report: string[] = [];

  const newBackend = (name: string) => testBackend({ name, host: `127.0.0.${next++}` });

  /** Writes the endpoints and waits until every connected Envoy has ACKed the resulting EDS. */
  async function apply(eps: ReadonlyArray<{ b: Backend; state: State }>): Promise<void> {
    const acks = t.cp.proxies.counters().byType.eds.acks;
    t.write('app.yaml', manifests(eps));
    const deadline = Date.now() + 10_000;
    while (t.cp.proxies.counters().byType.eds.acks <= acks) {
      if (Date.now() > deadline) throw new Error('EDS not ACKed within 10 s');
      await sleep(10);
    }
  }

  beforeAll(async () => {
    t = await testControlPlane({ 'class.yaml': INGRESS_CLASS_YAML, 'app.yaml': manifests([]) });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
  });

  afterAll(() => {
    process.stdout.write(`\n[lossless] ${report.join('\n[lossless] ')}\n`);
  });

  it('rolling replacement, 3 rounds: zero errors', { timeout: 90_000 }, async () => {
    let current: Backend[] = [];
    for (let i = 0; i < 2; i++) current.push(await newBackend(`v0-${i}`));
    await apply(current.map((b) => ({ b, state: 'ready' })));
    const load = startLoad(t.httpPort, 8, 40); // 8 connections × 40/s = 320 requests/s
    await sleep(1000);
    const drainingHits: number[] = [];
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < current.length; i++) {
        const old = current[i]!;
        // 1. A new backend starts and its endpoint is added.
        const fresh = await newBackend(`v${round}-${i}`);
        const others = current.filter((b) => b !== old);
        await apply([...others, old, fresh].map((b) => ({ b, state: 'ready' as State })));
        await sleep(300);
        // 2. The old endpoint becomes serving+terminating: DRAINING.
        await apply([...others.map((b) => ({ b, state: 'ready' as State })), { b: old, state: 'draining' }, { b: fresh, state: 'ready' }]);
        const atDrain = old.requests;
        await sleep(500);
        drainingHits.push(old.requests - atDrain);
        // 3. It leaves; 4. the old process exits after a grace period.
        current = [...others, fresh];
        await apply(current.map((b) => ({ b, state: 'ready' })));
        await sleep(GRACE_MS);
        await old.close();
      }
    }
    await sleep(500);
    const r = await load.stop();
    report.push(
      `rolling replacement (3 rounds × 2 backends, grace ${GRACE_MS} ms): ${r.ok + r.non2xx + r.errors} requests in ${r.seconds.toFixed(1)} s (${r.rps}/s, 8 keep-alive connections): ${r.non2xx} non-2xx, ${r.errors} connection errors; requests to a DRAINING host after its ACK (per drain, 500 ms): ${drainingHits.join(', ')}`,
    );
    expect(r.samples).toEqual([]);
    expect(r.non2xx).toBe(0);
    expect(r.errors).toBe(0);
    expect(r.rps).toBeGreaterThanOrEqual(200);
    // Envoy stops sending new requests to a DRAINING host (at most the few in flight at the ACK).
    expect(Math.max(...drainingHits)).toBeLessThanOrEqual(8);
    for (const b of current) expect(r.byBackend.get(b.name) ?? 0).toBeGreaterThan(0);
  });

  it('scale-down from 4 to 1: zero errors', { timeout: 60_000 }, async () => {
    const bs: Backend[] = [];
    for (let i = 0; i < 4; i++) bs.push(await newBackend(`down-${i}`));
    await apply(bs.map((b) => ({ b, state: 'ready' })));
    const load = startLoad(t.httpPort, 8, 40);
    await sleep(1000);
    const [keep, ...gone] = bs as [Backend, ...Backend[]];
    await apply([{ b: keep, state: 'ready' }, ...gone.map((b) => ({ b, state: 'draining' as State }))]);
    const at = gone.map((b) => b.requests);
    await sleep(1000);
    const drainingHits = gone.map((b, i) => b.requests - at[i]!);
    await apply([{ b: keep, state: 'ready' }]);
    await sleep(GRACE_MS);
    await Promise.all(gone.map((b) => b.close()));
    await sleep(1000);
    const r = await load.stop();
    report.push(
      `scale-down 4 → 1 (grace ${GRACE_MS} ms): ${r.ok + r.non2xx + r.errors} requests in ${r.seconds.toFixed(1)} s (${r.rps}/s): ${r.non2xx} non-2xx, ${r.errors} connection errors; requests to the 3 DRAINING hosts in the 1 s after the ACK: ${drainingHits.join(', ')} (DRAINING hosts are excluded from Envoy's panic computation: no panic with 3 of 4 draining)`,
    );
    expect(r.samples).toEqual([]);
    expect(r.non2xx).toBe(0);
    expect(r.errors).toBe(0);
    expect(r.rps).toBeGreaterThanOrEqual(200);
  });
});
