// The WAF proxy-wasm plugin (wasm-plugins/waf) through the real Envoy with a static
// bootstrap: one Envoy, one Wasm VM shared by every filter instance (same vm_id and code),
// and four listeners:
//   waf-block   the Wasm filter in block mode on every route
//   waf-detect  the Wasm filter in detect mode on every route
//   plain       no Wasm filter (the latency baseline)
//   per-route   two Wasm filters (block, detect) in the HCM chain, switched off per route
//               with typed_per_filter_config FilterConfig{disabled: true} — the wiring the
//               translator is to use (see OFF below for why not the other way round)
// Corpora: test/fixtures/waf/attacks.json (all → 403) and benign.json (none blocked).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../envoy/binary.js';
import { validateBootstrap, type ValidateResult } from '../../envoy/validate.js';
import { testBackend, type Backend } from '../helpers/backends.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

interface CorpusRequest {
  readonly group?: string;
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly contentType?: string;
  readonly body?: string;
}

const root = repoRoot();
const wasmFile = join(root, 'wasm-plugins', 'waf', 'dist', 'waf.wasm');
const load = (name: string): CorpusRequest[] =>
  (JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'waf', name), 'utf8')) as { requests: CorpusRequest[] }).requests;
const attacks = load('attacks.json');
const benign = load('benign.json');

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
/**
 * Per-route switch-off. The Wasm filter has no route-specific config, so a filter that is
 * `disabled` in the HCM chain cannot be re-enabled per route (Envoy 1.39 rejects an empty
 * FilterConfig: "Empty route/virtual host per filter configuration", and a Wasm config in
 * it: "doesn't support virtual host or route specific configurations"). The working
 * wiring is the inverse: the filter in the chain, and FilterConfig{disabled: true} on
 * every route (or virtual host) that must not use it.
 */
const OFF = { '@type': 'type.googleapis.com/envoy.config.route.v3.FilterConfig', disabled: true };

/** The Envoy HTTP filter the control plane is to emit (see wasm-plugins/README.md). */
function wafFilter(name: string, configuration: string): Record<string, unknown> {
  return {
    name,
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: 'xgate-waf',
        root_id: 'xgate-waf',
        configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: configuration },
        fail_open: false,
        vm_config: {
          vm_id: 'xgate-waf',
          runtime: 'envoy.wasm.runtime.v8',
          code: { local: { filename: wasmFile } },
        },
      },
    },
  };
}

const router = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

function listener(name: string, filters: unknown[], routes: unknown[]): Record<string, unknown> {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name,
              route_config: { name, virtual_hosts: [{ name, domains: ['*'], routes }] },
              http_filters: [...filters, router],
            },
          },
        ],
      },
    ],
  };
}

const toBackend = (prefix = '/'): Record<string, unknown> => ({ match: { prefix }, route: { cluster: 'backend' } });

function bootstrap(backend: Backend, mode = 'block'): Record<string, unknown> {
  return {
    static_resources: {
      listeners: [
        listener('waf-block', [wafFilter('xgate.waf', JSON.stringify({ mode }))], [toBackend()]),
        listener('waf-detect', [wafFilter('xgate.waf', JSON.stringify({ mode: 'detect' }))], [toBackend()]),
        listener('plain', [], [toBackend()]),
        listener(
          'per-route',
          [wafFilter('xgate.waf.block', '{"mode":"block"}'), wafFilter('xgate.waf.detect', '{"mode":"detect"}')],
          [
            { ...toBackend('/guarded'), typed_per_filter_config: { 'xgate.waf.detect': OFF } },
            { ...toBackend('/watched'), typed_per_filter_config: { 'xgate.waf.block': OFF } },
            { ...toBackend('/'), typed_per_filter_config: { 'xgate.waf.block': OFF, 'xgate.waf.detect': OFF } },
          ],
        ),
      ],
      clusters: [
        {
          name: 'backend',
          type: 'STATIC',
          connect_timeout: '2s',
          load_assignment: {
            cluster_name: 'backend',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: backend.host, port_value: backend.port } } } }] }],
          },
        },
      ],
    },
  };
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

interface Reply {
  readonly status: number;
  readonly waf: string | undefined;
  readonly body: string;
}

function send(port: number, r: CorpusRequest, agent: http.Agent = keepAlive): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'user-agent': 'xgate-test/1.0', ...r.headers };
    if (r.contentType) headers['content-type'] = r.contentType;
    const req = http.request({ host: '127.0.0.1', port, method: r.method ?? (r.body === undefined ? 'GET' : 'POST'), path: r.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const w = res.headers['x-xgate-waf'];
        resolve({ status: res.statusCode ?? 0, waf: Array.isArray(w) ? w[0] : w, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`timeout: ${r.path}`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

const describeReq = (r: CorpusRequest): string => `${r.method ?? (r.body === undefined ? 'GET' : 'POST')} ${r.path}${r.headers ? ` ${JSON.stringify(r.headers)}` : ''}${r.body ? ` body=${r.body}` : ''}`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

describe('WAF proxy-wasm plugin through the real Envoy', () => {
  let envoy: RunningEnvoy;
  let backend: Backend;
  const port: Record<string, number> = {};
  let badModeValidation: Promise<ValidateResult>;

  beforeAll(async () => {
    // Normally done by pretest (npm run build-wasm); idempotent, ~0.1 s when up to date.
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { encoding: 'utf8', timeout: 600_000 });
    if (b.status !== 0) throw new Error(`build-wasm failed:\n${b.stderr}`);
    backend = await testBackend({ name: 'waf-backend' });
    // Started now, awaited in its test: runs while the test Envoy starts.
    badModeValidation = validateBootstrap({
      static_resources: { listeners: [listener('bad', [wafFilter('xgate.waf', '{"mode":"monitor"}')], [toBackend()])], clusters: (bootstrap(backend)['static_resources'] as { clusters: unknown }).clusters },
    });
    badModeValidation.catch(() => undefined);
    const started = Date.now();
    envoy = await testEnvoy({
      xdsPort: 1, // unused: the bootstrap is replaced by a static one
      configure: (doc) => {
        const admin = doc['admin'];
        for (const k of Object.keys(doc)) delete doc[k];
        Object.assign(doc, bootstrap(backend), { admin });
      },
    });
    for (const name of ['waf-block', 'waf-detect', 'plain', 'per-route']) port[name] = (await envoy.waitForListener(name, 90_000)).port;
    process.stderr.write(`[waf] Envoy with the WAF (${(readFileSync(wasmFile).length / 1024 / 1024).toFixed(2)} MiB .wasm) up in ${Date.now() - started} ms\n`);
  }, 150_000);

  it(`corpora are big enough (${attacks.length} attacks, ${benign.length} ordinary requests)`, () => {
    expect(attacks.length).toBeGreaterThanOrEqual(50);
    expect(benign.length).toBeGreaterThanOrEqual(50);
  });

  it('block mode: every attack is answered 403 with x-xgate-waf naming a rule of the expected group, and never reaches the backend', async () => {
    const before = backend.requests;
    const stats0 = await envoy.stats('wasmcustom');
    const misses: string[] = [];
    for (const a of attacks) {
      const r = await send(port['waf-block']!, a);
      if (r.status !== 403 || !r.waf?.startsWith(`${a.group}-`) || !r.body.includes('xgate WAF')) misses.push(`${describeReq(a)} → ${r.status} ${r.waf ?? ''}`);
    }
    expect(misses).toEqual([]);
    expect(backend.requests - before).toBe(0);
    const stats1 = await envoy.stats('wasmcustom');
    expect((stats1['wasmcustom.xgate_waf_blocked'] ?? 0) - (stats0['wasmcustom.xgate_waf_blocked'] ?? 0)).toBe(attacks.length);
  });

  it('block mode: zero false positives on the ordinary corpus', async () => {
    const before = backend.requests;
    const blocked: string[] = [];
    for (const b of benign) {
      const r = await send(port['waf-block']!, b);
      if (r.status !== 200) blocked.push(`${describeReq(b)} → ${r.status} ${r.waf ?? ''}`);
    }
    expect(blocked).toEqual([]);
    expect(backend.requests - before).toBe(benign.length);
  });

  it('detect mode: everything passes; xgate_waf_hits counts each attack once; hits are logged', async () => {
    const hits = async (): Promise<number> => (await envoy.stats('wasmcustom'))['wasmcustom.xgate_waf_hits'] ?? 0;
    const h0 = await hits();
    for (const r of [...attacks, ...benign]) {
      const res = await send(port['waf-detect']!, r);
      expect(res.status, describeReq(r)).toBe(200);
      expect(res.waf).toBeUndefined();
    }
    expect((await hits()) - h0).toBe(attacks.length);
    const log = await envoy.readLog();
    expect(log).toMatch(/\[warning\].*xgate-waf: detect rule=sqli-union in=query/);
    expect(log).toMatch(/xgate-waf: detect rule=scanner-ua in=user-agent/);
  });

  it('per route: FilterConfig{disabled: true} leaves block on /guarded, detect on /watched, no WAF elsewhere', async () => {
    const attack = { path: '/x?id=1%20union%20select%201' };
    const guarded = await send(port['per-route']!, { path: `/guarded${attack.path}` });
    expect([guarded.status, guarded.waf]).toEqual([403, 'sqli-union']);
    const h0 = (await envoy.stats('wasmcustom'))['wasmcustom.xgate_waf_hits'] ?? 0;
    expect((await send(port['per-route']!, { path: `/watched${attack.path}` })).status).toBe(200);
    expect(((await envoy.stats('wasmcustom'))['wasmcustom.xgate_waf_hits'] ?? 0) - h0).toBe(1);
    expect((await send(port['per-route']!, { path: `/open${attack.path}` })).status).toBe(200);
    expect(((await envoy.stats('wasmcustom'))['wasmcustom.xgate_waf_hits'] ?? 0) - h0).toBe(1);
  });

  it('an unknown mode makes Envoy reject the configuration (fail closed)', async () => {
    // One `envoy --mode validate` (V8 compiles the 4 MB module: seconds); unknown keys,
    // rule groups and body caps are refused by the same ParseConfig error path
    // (wasm-plugins/waf/config_test.go covers them natively).
    const unknownMode = await badModeValidation;
    expect(unknownMode.ok).toBe(false);
    expect(unknownMode.output).toContain('mode "monitor" is not "block" or "detect"');
    expect(unknownMode.message).toContain('Unable to create Wasm plugin');
  }, 30_000);

  it('latency overhead: median per request with and without the filter', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const req: CorpusRequest = { path: '/api/v1/users?limit=20&offset=40&q=o%27brien', headers: { accept: 'application/json', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0' } };
    const post: CorpusRequest = { method: 'POST', path: '/api/v1/orders', contentType: 'application/json', body: JSON.stringify({ items: [{ sku: 'A-1', qty: 2, price: '$19.99' }], note: "Conan O'Brien" }) };
    const measure = async (p: number, r: CorpusRequest, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = process.hrtime.bigint();
        const res = await send(p, r, agent);
        out.push(Number(process.hrtime.bigint() - t) / 1e3);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      }
      return out;
    };
    const result: Record<string, number> = {};
    for (const [label, r] of [['GET', req], ['POST json', post]] as const) {
      await measure(port['plain']!, r, 30);
      await measure(port['waf-block']!, r, 30);
      // Interleaved rounds so drift affects both sides alike.
      const plain: number[] = [];
      const waf: number[] = [];
      for (let round = 0; round < 4; round++) {
        plain.push(...(await measure(port['plain']!, r, 75)));
        waf.push(...(await measure(port['waf-block']!, r, 75)));
      }
      result[`${label} plain µs`] = Math.round(median(plain));
      result[`${label} waf µs`] = Math.round(median(waf));
      result[`${label} overhead µs`] = Math.round(median(waf) - median(plain));
    }
    agent.destroy();
    process.stderr.write(`[waf] latency (median of 300 sequential keep-alive requests each): ${JSON.stringify(result)}\n`);
    expect(result['GET waf µs']).toBeGreaterThan(0);
  });
});
