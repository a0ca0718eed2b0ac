// Warmup through the real Envoy: with `mse.ingress.kubernetes.io/warmup: "10"` and
// three existing endpoints, a fourth one added under load (keep-alive, ~300 requests/s)
// starts well below its fair share (25 %) and reaches it by the end of the 10 s window.
// Prints the measured curve (share of the new endpoint per second).
import http from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { testBackend, type Backend } from '../helpers/backends.js';
import { testControlPlane, INGRESS_CLASS_YAML, type TestControlPlane } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const HOST = 'warm.example.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function manifests(bs: readonly Backend[]): string {
  const slices = bs.map(
    (b, i) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-${i}, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: ${b.port} }]
endpoints:
  - { addresses: ["${b.host}"], conditions: { ready: true } }
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
metadata:
  name: web
  namespace: default
  annotations:
    mse.ingress.kubernetes.io/warmup: "10"
spec:
  ingressClassName: xgate
  rules:
    - host: ${HOST}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
${slices.join('')}`;
}

describe('warmup (Envoy slow start) under load', () => {
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let bs: Backend[];

  beforeAll(async () => {
    bs = [];
    for (let i = 0; i < 4; i++) bs.push(await testBackend({ name: `w${i}`, host: `127.0.0.${40 + i}` }));
    t = await testControlPlane({ 'class.yaml': INGRESS_CLASS_YAML, 'app.yaml': manifests(bs.slice(0, 3)) });
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
  });

  it('ramps a new endpoint from well below its fair share to it within the window', { timeout: 40_000 }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const fresh = bs[3]!;
    let stop = false;
    let errors = 0;
    // Per 1 s bucket since the endpoint was added: [total, to the new endpoint].
    const buckets: Array<[number, number]> = [];
    let addedAt = 0;
    const one = () =>
      new Promise<void>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port: t.httpPort, path: '/', headers: { host: HOST }, agent }, (r) => {
          r.resume();
          r.on('end', () => {
            if (r.statusCode !== 200) errors++;
            if (addedAt) {
              const i = Math.floor((Date.now() - addedAt) / 1000);
              const b = (buckets[i] ??= [0, 0]);
              b[0]++;
              if (r.headers['x-backend'] === fresh.name) b[1]++;
            }
            resolve();
          });
        });
        req.on('error', () => {
          errors++;
          resolve();
        });
        req.end();
      });
    const loop = async () => {
      let next = Date.now();
      while (!stop) {
        await one();
        next += 25;
        const w = next - Date.now();
        if (w > 0) await sleep(w);
        else next = Date.now();
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await sleep(1000);
    const acks = t.cp.proxies.counters().byType.eds.acks;
    t.write('app.yaml', manifests(bs));
    while (t.cp.proxies.counters().byType.eds.acks <= acks) await sleep(5);
    addedAt = Date.now();
    await sleep(13_000);
    stop = true;
    await Promise.all(loops);
    agent.destroy();
    const shares = buckets.slice(0, 13).map(([n, f]) => (n ? f / n : 0));
    const curve = shares.map((s, i) => `${i}-${i + 1}s ${(s * 100).toFixed(1)}%`).join(', ');
    const rps = Math.round(buckets.slice(0, 13).reduce((a, [n]) => a + n, 0) / 13);
    process.stdout.write(`\n[warmup] window 10 s, 3 existing + 1 new endpoint, ${rps} requests/s; new endpoint's share (fair 25 %): ${curve}\n`);
    expect(errors).toBe(0);
    expect(rps).toBeGreaterThanOrEqual(200);
    // Starts well below its fair share (measured: 16–18 % in the first two seconds,
    // not the ~3 % that min_weight_percent 10 % alone would give: see docs/lossless-rollout.md)…
    const start = (shares[0]! + shares[1]!) / 2;
    expect(start).toBeLessThan(0.8 * 0.25);
    // …rises…
    expect((shares[6]! + shares[7]!) / 2).toBeGreaterThan(start);
    // …and is at it by the end of the window.
    const end = (shares[10]! + shares[11]! + shares[12]!) / 3;
    expect(end).toBeGreaterThan(0.2);
    expect(end).toBeLessThan(0.3);
  });
});
