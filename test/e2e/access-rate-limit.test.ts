// Local rate limits through the real Envoy: H route-limit-* (one bucket per route, all
// clients) and N limit-* (one bucket per client address, trusted through --trusted-hops).
// Each check floods a route for a window and measures the rate of 200s after the burst:
// it must be the configured rate ±20 % (the machine is contended: only the upper side is
// ever at risk from a slow client, so the window is long enough for ~100 limited requests).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';
import { accessControlPlane, ingressYaml, send } from './access-helpers.js';

interface Flood {
  readonly ok: number;
  readonly limited: number;
  readonly other: number;
  readonly seconds: number;
  /** 200s before the first 429 (the burst, plus what refilled until then). */
  readonly firstLimitedAfter: number;
  /** Seconds from the start to the first 429. */
  readonly firstLimitedAt: number;
}

describe('rate limits through the real Envoy', () => {
  let envoy: RunningEnvoy;
  let port: number;
  const agents: http.Agent[] = [];

  beforeAll(async () => {
    const web = await testBackend({ name: 'web' });
    const t = await accessControlPlane(
      {
        '00-class.yaml': INGRESS_CLASS_YAML,
        '10-web.yaml': serviceYaml('web', [web]),
        '20-ingresses.yaml': [
          ingressYaml('route-rps', 'route.example.com', { 'higress.io/route-limit-rps': '20', 'higress.io/route-limit-burst-multiplier': '1' }),
          ingressYaml('client-rps', 'client.example.com', { 'nginx.ingress.kubernetes.io/limit-rps': '10', 'nginx.ingress.kubernetes.io/limit-burst-multiplier': '2' }),
          ingressYaml('client-rpm', 'rpm.example.com', { 'nginx.ingress.kubernetes.io/limit-rpm': '60', 'nginx.ingress.kubernetes.io/limit-burst-multiplier': '1' }),
          ingressYaml('free', 'free.example.com', { 'nginx.ingress.kubernetes.io/limit-rps': '0' }),
        ].join('---\n'),
      },
      { trustedHops: 1 },
    );
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(30_000);
    await envoy.waitForListener('http', 30_000);
    port = t.httpPort;
    await eventually(async () => (await send(port, { host: 'free.example.com' })).status === 200, 20_000);
  }, 60_000);

  afterAll(async () => {
    for (const a of agents) a.destroy();
    await envoy?.stop();
  });

  async function flood(host: string, ms: number, from = '127.0.0.1', xff?: string): Promise<Flood> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    let ok = 0;
    let limited = 0;
    let other = 0;
    let firstLimitedAfter = -1;
    let firstLimitedAt = -1;
    const start = Date.now();
    while (Date.now() - start < ms) {
      const r = await send(port, { host, from, agent, ...(xff ? { headers: { 'x-forwarded-for': xff } } : {}) });
      if (r.status === 200) ok++;
      else if (r.status === 429) {
        limited++;
        if (firstLimitedAfter < 0) {
          firstLimitedAfter = ok;
          firstLimitedAt = (Date.now() - start) / 1000;
        }
        expect(r.body).toBe('local_rate_limited');
      } else other++;
      // ~300 requests/s at most: far above every limit here, without hogging the shared CPUs.
      await new Promise((r) => setTimeout(r, 2));
    }
    return { ok, limited, other, seconds: (Date.now() - start) / 1000, firstLimitedAfter, firstLimitedAt };
  }

  /**
   * The first 429 comes once the burst is spent: after `burst` requests plus what refilled
   * at `rps` until then (a slow client on a contended machine refills more), ±20 %.
   */
  function expectFirst429(f: Flood, burst: number, rps: number): void {
    expect(f.firstLimitedAt).toBeGreaterThanOrEqual(0);
    expect(f.firstLimitedAfter).toBeGreaterThanOrEqual(Math.floor(burst * 0.8));
    expect(f.firstLimitedAfter).toBeLessThanOrEqual(Math.ceil((burst + rps * f.firstLimitedAt) * 1.2) + 1);
  }

  /** The steady rate of 200s after the burst. */
  const rate = (f: Flood, burst: number): number => (f.ok - burst) / f.seconds;

  it('H route-limit-rps 20 (burst ×1): 429s begin after 20 requests and 200s come at 20/s ±20 %', async () => {
    const f = await flood('route.example.com', 4000);
    process.stderr.write(`[access-rate-limit] route 20 rps: ${JSON.stringify(f)} → ${rate(f, 20).toFixed(1)}/s\n`);
    expect(f.other).toBe(0);
    expect(f.limited).toBeGreaterThan(20);
    expectFirst429(f, 20, 20);
    expect(rate(f, 20)).toBeGreaterThanOrEqual(16);
    expect(rate(f, 20)).toBeLessThanOrEqual(24);
  }, 30_000);

  it('H route-limit is shared by all clients of the route', async () => {
    await new Promise((r) => setTimeout(r, 1500)); // refill
    const [a, b] = await Promise.all([flood('route.example.com', 3000, '127.0.0.2'), flood('route.example.com', 3000, '127.0.0.3')]);
    const total = (a.ok + b.ok - 20) / Math.max(a.seconds, b.seconds);
    process.stderr.write(`[access-rate-limit] route 20 rps, two clients: ${a.ok} + ${b.ok} → ${total.toFixed(1)}/s together\n`);
    expect(total).toBeGreaterThanOrEqual(16);
    expect(total).toBeLessThanOrEqual(24);
  }, 30_000);

  it('N limit-rps 10 (burst ×2) is per client address: each client gets 10/s ±20 % after its own burst of 20', async () => {
    const [a, b] = await Promise.all([flood('client.example.com', 4000, '127.0.0.4'), flood('client.example.com', 4000, '127.0.0.5')]);
    process.stderr.write(`[access-rate-limit] client 10 rps: a ${JSON.stringify(a)} → ${rate(a, 20).toFixed(1)}/s; b ${JSON.stringify(b)} → ${rate(b, 20).toFixed(1)}/s\n`);
    for (const f of [a, b]) {
      expect(f.other).toBe(0);
      expectFirst429(f, 20, 10);
      expect(rate(f, 20)).toBeGreaterThanOrEqual(8);
      expect(rate(f, 20)).toBeLessThanOrEqual(12);
    }
  }, 30_000);

  it('N limit-rps keys on the trusted client address: X-Forwarded-For through --trusted-hops 1', async () => {
    // Two clients behind one load balancer (127.0.0.6): separate buckets by their XFF entry.
    const [a, b] = await Promise.all([flood('client.example.com', 2500, '127.0.0.6', '198.51.100.1'), flood('client.example.com', 2500, '127.0.0.6', '198.51.100.2')]);
    process.stderr.write(`[access-rate-limit] client 10 rps via XFF: ${a.ok} and ${b.ok} ok\n`);
    for (const f of [a, b]) expectFirst429(f, 20, 10);
    // Forged entries before the trusted one change nothing: two "clients" that differ only in
    // what they forged share the bucket of their real address (198.51.100.3).
    const [c, d] = await Promise.all([flood('client.example.com', 2500, '127.0.0.6', '203.0.113.98, 198.51.100.3'), flood('client.example.com', 2500, '127.0.0.6', '203.0.113.99, 198.51.100.3')]);
    const shared = (c.ok + d.ok - 20) / Math.max(c.seconds, d.seconds);
    process.stderr.write(`[access-rate-limit] client 10 rps, forged XFF prefixes: ${c.ok} + ${d.ok} → ${shared.toFixed(1)}/s together\n`);
    expect(shared).toBeGreaterThanOrEqual(8);
    expect(shared).toBeLessThanOrEqual(12);
  }, 30_000);

  it('N limit-rpm 60 (burst ×1): the 61st request in the first minute is the first 429', async () => {
    const f = await flood('rpm.example.com', 2000, '127.0.0.8');
    process.stderr.write(`[access-rate-limit] 60 rpm: ${JSON.stringify(f)}\n`);
    expectFirst429(f, 60, 1);
    expect(f.ok).toBeLessThanOrEqual(72 + Math.ceil(f.seconds));
  }, 30_000);

  it('limit-rps 0 means no limit', async () => {
    const f = await flood('free.example.com', 1000, '127.0.0.9');
    expect(f.limited).toBe(0);
    expect(f.ok).toBeGreaterThan(30);
  }, 30_000);
});
