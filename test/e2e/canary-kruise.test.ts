// A Kruise Rollout replay through the real Envoy: the Ingress objects Kruise Rollout
// creates and patches for a rollout with the nginx traffic-routing provider —
// `<name>-canary` created as a copy of the stable Ingress's annotations plus the canary
// ones, weight steps 5 → 20 → 50 → 100, a header-match step, then the canary deleted.
// After each step the traffic must match, and the step must be visible in traffic
// within 1 s of the manifest write (Kruise waits gracePeriodSeconds, 3 s by default,
// and never reads status). The measured latencies are printed.
//
// Kruise writes through the Kubernetes API, so the replay runs in --kube mode against
// the stand-in API server (real client-node informers → control plane → ADS → Envoy).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Traffic, share, type Tally } from '../../bench/b2-traffic.js';
import { testBackends, type Backend } from '../helpers/backends.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { testApiServer, type TestApiServer } from '../helpers/fake-apiserver.js';
import { kubeControlPlane, type KubeControlPlane } from '../kube/control-plane.js';
import { INGRESS_CLASS, endpointSlice, service } from '../kube/objects.js';

const N = 'nginx.ingress.kubernetes.io/';
const HOST = 'rollout.example.com';
/** The stable Ingress's own annotations, which Kruise copies onto the canary. */
const STABLE_ANNOTATIONS: Record<string, string> = { 'higress.io/timeout': '30' };

function ingress(name: string, svc: string, annotations: Record<string, string>) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', annotations },
    spec: {
      ingressClassName: 'xgate',
      rules: [{ host: HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }],
    },
  };
}

/** What Kruise writes for the canary Ingress at one step. */
function canary(extra: Record<string, string>) {
  return ingress('demo-canary', 'demo-canary', { ...STABLE_ANNOTATIONS, [`${N}canary`]: 'true', ...extra });
}

interface Step {
  readonly name: string;
  /** The canary manifest, or undefined to delete it. */
  readonly manifest: ReturnType<typeof canary> | undefined;
  /** Does one probe (200 requests, plain and with the header) show this step? */
  readonly visible: (plain: Tally, withHeader: Tally) => boolean;
  /** The thorough check after the step is visible. */
  readonly check: (traffic: Traffic, port: number) => Promise<void>;
}

const HEADER = { 'x-user-group': 'beta' };

describe('Kruise Rollout replay through the real Envoy', () => {
  let api: TestApiServer;
  let t: KubeControlPlane;
  let envoy: RunningEnvoy;
  let traffic: Traffic;

  beforeAll(async () => {
    const [stable, canaryB] = (await testBackends(['demo', 'demo-canary'], { distinctHosts: true })) as Backend[];
    api = await testApiServer();
    api.apply(INGRESS_CLASS);
    api.apply(service('demo'));
    api.apply(endpointSlice('demo-1', 'demo', [stable!]));
    api.apply(service('demo-canary'));
    api.apply(endpointSlice('demo-canary-1', 'demo-canary', [canaryB!]));
    api.apply(ingress('demo', 'demo', STABLE_ANNOTATIONS));
    t = await kubeControlPlane(api);
    envoy = await testEnvoy({ xdsPort: t.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
    traffic = new Traffic();
  });

  afterAll(async () => {
    traffic?.close();
    await envoy?.stop();
  });

  it('follows every step within 1 s, with the traffic each step asks for', async () => {
    const port = t.httpPort;
    const run = (n: number, headers?: Record<string, string>) => traffic.run(n, { port, host: HOST, concurrency: 48, ...(headers ? { headers } : {}) });
    const weightStep = (w: number, lo: number, hi: number, tolerance: number): Step => ({
      name: `canary-weight ${w}`,
      manifest: canary({ [`${N}canary-weight`]: String(w) }),
      visible: (p) => (p.counts['demo-canary'] ?? 0) > 0 && share(p, 'demo-canary') > lo && share(p, 'demo-canary') < hi,
      check: async () => {
        const tl = await run(2000);
        expect(Math.abs(share(tl, 'demo-canary') - w), JSON.stringify(tl.counts)).toBeLessThanOrEqual(tolerance);
        expect((tl.counts['demo'] ?? 0) + (tl.counts['demo-canary'] ?? 0)).toBe(2000);
      },
    });
    const steps: Step[] = [
      weightStep(5, 0, 12.5, 2),
      weightStep(20, 12.5, 35, 3),
      weightStep(50, 35, 75, 4),
      {
        name: 'canary-weight 100',
        manifest: canary({ [`${N}canary-weight`]: '100' }),
        visible: (p) => share(p, 'demo-canary') === 100,
        check: async () => expect((await run(2000)).counts).toEqual({ 'demo-canary': 2000 }),
      },
      {
        name: 'header match (x-user-group: beta), no weight',
        manifest: canary({ [`${N}canary-by-header`]: 'x-user-group', [`${N}canary-by-header-value`]: 'beta' }),
        visible: (p, h) => share(p, 'demo') === 100 && share(h, 'demo-canary') === 100,
        check: async () => {
          expect((await run(1000)).counts).toEqual({ demo: 1000 });
          expect((await run(1000, HEADER)).counts).toEqual({ 'demo-canary': 1000 });
          expect((await run(200, { 'x-user-group': 'alpha' })).counts).toEqual({ demo: 200 });
        },
      },
      {
        name: 'canary deleted',
        manifest: undefined,
        visible: (p, h) => share(p, 'demo') === 100 && share(h, 'demo') === 100,
        check: async () => {
          expect((await run(1000)).counts).toEqual({ demo: 1000 });
          expect((await run(1000, HEADER)).counts).toEqual({ demo: 1000 });
        },
      },
    ];

    // Before the rollout: everything on the stable Service.
    expect((await run(500)).counts).toEqual({ demo: 500 });
    const rows: string[] = [];
    const latencies: number[] = [];
    for (const step of steps) {
      const since = performance.now();
      if (step.manifest === undefined) api.remove('networking.k8s.io/v1', 'Ingress', 'default', 'demo-canary');
      else api.apply(step.manifest);
      let ms = 0;
      let probes = 0;
      for (;;) {
        const [plain, withHeader] = await Promise.all([run(200), run(100, HEADER)]);
        probes++;
        ms = performance.now() - since;
        if (step.visible(plain, withHeader)) break;
        if (ms > 5000) throw new Error(`step "${step.name}" not visible in traffic after ${Math.round(ms)} ms: ${JSON.stringify(plain.counts)} / with header ${JSON.stringify(withHeader.counts)}`);
      }
      latencies.push(ms);
      rows.push(`${step.name.padEnd(44)} visible in traffic after ${Math.round(ms)} ms (${probes} probe${probes > 1 ? 's' : ''} of 300 requests)`);
      await step.check(traffic, port);
    }
    process.stdout.write(`\nKruise Rollout replay (API write → new split observed through Envoy):\n  ${rows.join('\n  ')}\n`);
    for (const ms of latencies) expect(ms).toBeLessThan(1000);
  }, 120_000);
});
