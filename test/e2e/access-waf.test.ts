// The WAF per route through the real Envoy and the control plane: X `waf` and N
// `enable-modsecurity` select the mode per Ingress, the module comes from --waf-module.
// Corpora: test/fixtures/waf/attacks.json (≥ 50, all blocked on a block route and all
// passing elsewhere) and benign.json (≥ 50, zero false positives).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../envoy/binary.js';
import { testBackend, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml } from '../helpers/control-plane.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { eventually } from '../helpers/wait.js';
import { accessControlPlane, ingressYaml, send, type Reply } from './access-helpers.js';

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
const load = (name: string): CorpusRequest[] => (JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'waf', name), 'utf8')) as { requests: CorpusRequest[] }).requests;
const attacks = load('attacks.json');
const benign = load('benign.json');
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

const describeReq = (r: CorpusRequest): string => `${r.method ?? (r.body === undefined ? 'GET' : 'POST')} ${r.path}${r.body ? ` body=${r.body}` : ''}`;

describe('WAF per route through the control plane and the real Envoy', () => {
  let envoy: RunningEnvoy;
  let web: Backend;
  let port: number;

  const fire = (host: string, r: CorpusRequest): Promise<Reply> => {
    const headers: Record<string, string> = { 'user-agent': 'xgate-test/1.0', ...r.headers };
    if (r.contentType) headers['content-type'] = r.contentType;
    return send(port, { host, path: r.path, method: r.method ?? (r.body === undefined ? 'GET' : 'POST'), headers, ...(r.body !== undefined ? { body: r.body } : {}), agent });
  };
  const counter = async (name: string): Promise<number> => (await envoy.stats('wasmcustom'))[`wasmcustom.${name}`] ?? 0;

  beforeAll(async () => {
    const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { encoding: 'utf8', timeout: 600_000 });
    if (b.status !== 0) throw new Error(`build-wasm failed:\n${b.stderr}`);
    web = await testBackend({ name: 'web' });
    const t = await accessControlPlane(
      {
        '00-class.yaml': INGRESS_CLASS_YAML,
        '10-web.yaml': serviceYaml('web', [web]),
        '20-ingresses.yaml': [
          ingressYaml('block', 'block.example.com', { 'xgate.io/waf': 'block' }),
          ingressYaml('detect', 'detect.example.com', { 'nginx.ingress.kubernetes.io/enable-modsecurity': 'true' }),
          ingressYaml('plain', 'plain.example.com', {}),
          ingressYaml('off', 'plain.example.com', { 'xgate.io/waf': 'off' }, '/off'),
          ingressYaml('bad-mode', 'badmode.example.com', { 'xgate.io/waf': 'monitor' }),
        ].join('---\n'),
      },
      { wafModule: wasmFile },
    );
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(60_000);
    await envoy.waitForListener('http', 60_000);
    port = t.httpPort;
    await eventually(async () => (await send(port, { host: 'plain.example.com' })).status === 200, 30_000);
  }, 120_000);

  afterAll(async () => {
    agent.destroy();
    await envoy?.stop();
  });

  it(`corpora are big enough (${attacks.length} attacks, ${benign.length} ordinary requests)`, () => {
    expect(attacks.length).toBeGreaterThanOrEqual(50);
    expect(benign.length).toBeGreaterThanOrEqual(50);
  });

  // The gateway's connection manager normalises paths (normalize_path: RFC 3986, %2e
  // decoded, dot segments resolved) before any filter runs: an encoded traversal like
  // /static/%2e%2e/%2e%2e/app.env reaches the WAF, and the backend, as /app.env — no
  // traversal is left to block. Such attacks are counted as neutralised, not missed.
  const neutralised = new Set<CorpusRequest>();

  it('a WAF route (xgate.io/waf: block) answers every attack 403 (or Envoy neutralised it) and none reaches the backend as sent', async () => {
    const before = web.requests;
    const misses: string[] = [];
    for (const a of attacks) {
      const r = await fire('block.example.com', a);
      if (r.status === 403 && String(r.headers['x-xgate-waf'] ?? '').startsWith(`${a.group}-`)) continue;
      const seen = r.status === 200 ? (JSON.parse(r.body) as { path: string }).path : '';
      if (a.group === 'traversal' && seen && !/\.\.|%2e|%252e/i.test(seen)) {
        neutralised.add(a);
        continue;
      }
      misses.push(`${describeReq(a)} → ${r.status} ${seen}`);
    }
    expect(misses).toEqual([]);
    expect(neutralised.size).toBeLessThanOrEqual(3);
    expect(attacks.length - neutralised.size).toBeGreaterThanOrEqual(50);
    expect(web.requests - before).toBe(neutralised.size);
    process.stderr.write(`[access-waf] ${attacks.length - neutralised.size} attacks blocked, ${neutralised.size} neutralised by path normalisation: ${[...neutralised].map((a) => a.path).join(' ')}\n`);
  }, 120_000);

  it('the same attacks pass on routes without the WAF (no annotation, or waf: off)', async () => {
    const blocked: string[] = [];
    for (const a of attacks) {
      const r = await fire('plain.example.com', a);
      if (r.status !== 200) blocked.push(`${describeReq(a)} → ${r.status}`);
    }
    expect(blocked).toEqual([]);
    const off = await fire('plain.example.com', { path: "/off?id=1'%20or%201=1--" });
    expect(off.status).toBe(200);
  }, 120_000);

  it('zero false positives on the ordinary corpus on the WAF route', async () => {
    const blocked: string[] = [];
    for (const b of benign) {
      const r = await fire('block.example.com', b);
      if (r.status !== 200) blocked.push(`${describeReq(b)} → ${r.status} ${String(r.headers['x-xgate-waf'] ?? '')}`);
    }
    expect(blocked).toEqual([]);
  }, 120_000);

  it('detect mode (enable-modsecurity: "true") passes everything and counts each attack in xgate_waf_hits', async () => {
    const h0 = await counter('xgate_waf_hits');
    const failed: string[] = [];
    for (const r of [...attacks, ...benign]) {
      const res = await fire('detect.example.com', r);
      if (res.status !== 200) failed.push(`${describeReq(r)} → ${res.status}`);
    }
    expect(failed).toEqual([]);
    expect((await counter('xgate_waf_hits')) - h0).toBe(attacks.length - neutralised.size);
    expect(await envoy.readLog()).toMatch(/xgate-waf: detect rule=/);
  }, 120_000);

  it('an unknown WAF mode fails closed (403, the backend never sees it)', async () => {
    const before = web.requests;
    const r = await send(port, { host: 'badmode.example.com', path: '/hello' });
    expect(r.status).toBe(403);
    expect(r.body).toContain('invalid WAF setting');
    expect(web.requests).toBe(before);
  });
});
