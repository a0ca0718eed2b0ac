// Table tests for the access families (IP lists, WAF, rate limits) and their translators,
// and the serve options of the instance level.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ipAccessFamily } from '../../control-plane/src/annotations/access/ip-access.js';
import { rateLimitFamily } from '../../control-plane/src/annotations/access/rate-limit.js';
import { wafFamily } from '../../control-plane/src/annotations/access/waf.js';
import type { AnnotationFamily, FamilyContext } from '../../control-plane/src/annotations/family.js';
import { AnnotationReader } from '../../control-plane/src/annotations/reader.js';
import { DiagnosticSink } from '../../control-plane/src/diagnostics.js';
import { parseServe, parseTranslate, UsageError } from '../../control-plane/src/options.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore } from '../../control-plane/src/pipeline/translate-store.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import { rbacRules } from '../../control-plane/src/translate/access/rbac.js';
import { applyRouteRateLimit } from '../../control-plane/src/translate/access/rate-limit.js';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';
import { repoRoot } from '../../envoy/binary.js';
import { validateWithEnvoy } from '../../envoy/validate.js';

const ref = { kind: 'Ingress', namespace: 'default', name: 'x' };
const ctx = {} as FamilyContext;

function run(family: AnnotationFamily, annotations: Record<string, string>, host = false) {
  const sink = new DiagnosticSink();
  const r = new AnnotationReader(annotations, ref, sink);
  const out = host ? family.parseHost!(r, ctx) : family.parse(r, ctx);
  r.reportUnknown();
  return { out, codes: sink.items.map((d) => d.code) };
}

const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';
const M = 'mse.ingress.kubernetes.io/';
const X = 'xgate.io/';

describe('ip-access family', () => {
  it('reads route lists under their products (N/H whitelist, N/M denylist, M blacklist, all under X)', () => {
    expect(run(ipAccessFamily, { [`${N}whitelist-source-range`]: '10.0.0.0/8' }).out).toEqual({ ipAccess: { allow: ['10.0.0.0/8'] } });
    expect(run(ipAccessFamily, { [`${H}whitelist-source-range`]: '10.0.0.1' }).out).toEqual({ ipAccess: { allow: ['10.0.0.1/32'] } });
    expect(run(ipAccessFamily, { [`${M}denylist-source-range`]: '10.0.0.1' }).out).toEqual({ ipAccess: { deny: ['10.0.0.1/32'] } });
    expect(run(ipAccessFamily, { [`${M}blacklist-source-range`]: '::1', [`${N}denylist-source-range`]: '10.0.0.1' }).out).toEqual({ ipAccess: { deny: ['10.0.0.1/32', '::1/128'] } });
    expect(run(ipAccessFamily, { [`${X}whitelist-source-range`]: '10.0.0.1' }).out).toEqual({ ipAccess: { allow: ['10.0.0.1/32'] } });
  });

  it('does not read keys under products that do not have them', () => {
    // H has no deny key, N has no blacklist key: unknown-key warnings, no list.
    const r = run(ipAccessFamily, { [`${H}denylist-source-range`]: '10.0.0.1', [`${N}blacklist-source-range`]: '10.0.0.1', [`${N}domain-whitelist-source-range`]: '10.0.0.1' });
    expect(r.out).toBeUndefined();
    expect(r.codes).toEqual(['XG_ANNOTATION_UNKNOWN', 'XG_ANNOTATION_UNKNOWN', 'XG_ANNOTATION_UNKNOWN']);
  });

  it('an invalid route list fails closed with XG_IP_RANGE_INVALID', () => {
    for (const v of ['', 'nope', '10.0.0.1,', '10.0.0.0/33', '1.2.3.4; allow all']) {
      const r = run(ipAccessFamily, { [`${N}whitelist-source-range`]: v });
      expect(r.out).toEqual({ failClosed: { status: 403, reason: `invalid IP list in ${N}whitelist-source-range` } });
      expect(r.codes).toEqual(['XG_IP_RANGE_INVALID']);
    }
  });

  it('domain lists go to the host policy; an invalid one also closes the carrying Ingress (reported once)', () => {
    const ok = { [`${M}domain-whitelist-source-range`]: '10.0.0.0/8', [`${M}domain-blacklist-source-range`]: '10.1.0.0/16' };
    expect(run(ipAccessFamily, ok, true).out).toEqual({ ipAccess: { allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] } });
    expect(run(ipAccessFamily, ok).out).toBeUndefined();
    const bad = { [`${M}domain-blacklist-source-range`]: 'x' };
    expect(run(ipAccessFamily, bad, true).out).toEqual({ ipAccess: { invalid: true } });
    expect(run(ipAccessFamily, bad, true).codes).toEqual(['XG_IP_RANGE_INVALID']);
    expect(run(ipAccessFamily, bad).out).toMatchObject({ failClosed: { status: 403 } });
    expect(run(ipAccessFamily, bad).codes).toEqual([]);
  });

  it('warns about host bits and clears them', () => {
    const r = run(ipAccessFamily, { [`${N}whitelist-source-range`]: '10.1.2.3/16' });
    expect(r.out).toEqual({ ipAccess: { allow: ['10.1.0.0/16'] } });
    expect(r.codes).toEqual(['XG_IP_RANGE_HOST_BITS']);
  });
});

describe('waf family', () => {
  const cases: Array<[Record<string, string>, unknown, string[]]> = [
    [{ [`${X}waf`]: 'block' }, { waf: 'block' }, []],
    [{ [`${X}waf`]: ' detect ' }, { waf: 'detect' }, []],
    [{ [`${X}waf`]: 'off' }, undefined, []],
    [{ [`${N}enable-modsecurity`]: 'true' }, { waf: 'detect' }, []],
    [{ [`${N}enable-owasp-core-rules`]: 'True' }, { waf: 'detect' }, []],
    [{ [`${N}enable-modsecurity`]: 'false' }, undefined, []],
    [{ [`${N}enable-modsecurity`]: 'true', [`${X}waf`]: 'block' }, { waf: 'block' }, ['XG_WAF_SHADOWED']],
    [{ [`${N}enable-modsecurity`]: 'true', [`${X}waf`]: 'off' }, undefined, ['XG_WAF_SHADOWED']],
    [{ [`${X}waf`]: 'Block' }, { failClosed: { status: 403, reason: `invalid WAF setting in ${X}waf` } }, ['XG_WAF_MODE_INVALID']],
    [{ [`${X}waf`]: 'monitor' }, { failClosed: { status: 403, reason: `invalid WAF setting in ${X}waf` } }, ['XG_WAF_MODE_INVALID']],
    [{ [`${X}waf`]: '' }, { failClosed: { status: 403, reason: `invalid WAF setting in ${X}waf` } }, ['XG_WAF_MODE_INVALID']],
    [{ [`${N}enable-modsecurity`]: 'on' }, { failClosed: { status: 403, reason: `invalid WAF setting in ${N}enable-modsecurity` } }, ['XG_WAF_MODE_INVALID']],
    // H and M have no WAF keys.
    [{ [`${H}enable-modsecurity`]: 'true' }, undefined, ['XG_ANNOTATION_UNKNOWN']],
  ];
  for (const [ann, want, codes] of cases) {
    it(`${JSON.stringify(ann)} → ${JSON.stringify(want)}`, () => {
      const r = run(wafFamily, ann);
      expect(r.out).toEqual(want);
      expect(r.codes).toEqual(codes);
    });
  }
});

describe('rate-limit family', () => {
  it('H route-limit: one bucket per route, burst = rate × multiplier (default 5)', () => {
    expect(run(rateLimitFamily, { [`${H}route-limit-rps`]: '100' }).out).toEqual({ rateLimit: { route: { rps: { maxTokens: 500, tokensPerFill: 100, fillSeconds: 1 } } } });
    expect(run(rateLimitFamily, { [`${H}route-limit-rpm`]: '60', [`${H}route-limit-burst-multiplier`]: '2' }).out).toEqual({ rateLimit: { route: { rpm: { maxTokens: 120, tokensPerFill: 60, fillSeconds: 60 } } } });
  });
  it('N limit-*: per client', () => {
    expect(run(rateLimitFamily, { [`${N}limit-rps`]: '10', [`${N}limit-rpm`]: '300', [`${N}limit-burst-multiplier`]: '1' }).out).toEqual({
      rateLimit: { client: { rps: { maxTokens: 10, tokensPerFill: 10, fillSeconds: 1 }, rpm: { maxTokens: 300, tokensPerFill: 300, fillSeconds: 60 } } },
    });
  });
  it('0 means no limit', () => {
    expect(run(rateLimitFamily, { [`${N}limit-rps`]: '0' })).toEqual({ out: undefined, codes: [] });
  });
  it('invalid values are reported and not applied', () => {
    for (const v of ['-1', '1.5', '10r/s', '100001', '007', '', '1e3']) {
      const r = run(rateLimitFamily, { [`${N}limit-rps`]: v });
      expect(r.out, v).toBeUndefined();
      expect(r.codes, v).toEqual(['XG_RATE_LIMIT_INVALID']);
    }
    const m = run(rateLimitFamily, { [`${N}limit-rps`]: '10', [`${N}limit-burst-multiplier`]: '0' });
    expect(m.out).toEqual({ rateLimit: { client: { rps: { maxTokens: 50, tokensPerFill: 10, fillSeconds: 1 } } } });
    expect(m.codes).toEqual(['XG_RATE_LIMIT_INVALID']);
  });
  it('limit-connections is not supported (warning), 0 is silent', () => {
    expect(run(rateLimitFamily, { [`${N}limit-connections`]: '5' }).codes).toEqual(['XG_LIMIT_CONNECTIONS_UNSUPPORTED']);
    expect(run(rateLimitFamily, { [`${N}limit-connections`]: '0' }).codes).toEqual([]);
  });
});

describe('translators', () => {
  const ip = (a: string, len: number) => ({ remote_ip: { address_prefix: a, prefix_len: len } });
  it('rbacRules: allow only, deny only, both (deny wins), invalid (deny all)', () => {
    const policy = (p: JsonObject) => ({ rules: { action: 'ALLOW', policies: { 'xgate-source-range': { permissions: [{ any: true }], principals: [p] } } } });
    expect(rbacRules({ allow: ['10.0.0.0/8'] })).toEqual(policy(ip('10.0.0.0', 8)));
    expect(rbacRules({ deny: ['10.0.0.1/32', '::1/128'] })).toEqual(policy({ not_id: { or_ids: { ids: [ip('10.0.0.1', 32), ip('::1', 128)] } } }));
    expect(rbacRules({ allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] })).toEqual(policy({ and_ids: { ids: [ip('10.0.0.0', 8), { not_id: ip('10.1.0.0', 16) }] } }));
    expect(rbacRules({ invalid: true })).toEqual({ rules: { action: 'ALLOW' } });
  });

  it('rate limits apply only to forwarding routes', () => {
    const direct: JsonObject = { name: 'r', direct_response: { status: 403 } };
    applyRouteRateLimit({ rateLimit: { client: { rps: { maxTokens: 5, tokensPerFill: 1, fillSeconds: 1 } } } }, direct);
    expect(direct['typed_per_filter_config']).toBeUndefined();
    const fwd: JsonObject = { name: 'r', route: { cluster: 'c' } };
    applyRouteRateLimit({ rateLimit: { client: { rps: { maxTokens: 5, tokensPerFill: 1, fillSeconds: 1 } } } }, fwd);
    expect((fwd['route'] as JsonObject)['rate_limits']).toEqual([{ actions: [{ generic_key: { descriptor_key: 'xgate_limit', descriptor_value: 'client_rps' } }, { remote_address: {} }] }]);
  });
});

describe('instance-level options', () => {
  it('parses --allow-source-range, --deny-source-range, --trusted-hops, --waf-module', () => {
    const o = parseServe(['--manifests', '/tmp', '--allow-source-range', '10.0.0.1/8, ::1', '--deny-source-range', '10.9.0.0/16', '--trusted-hops', '2', '--waf-module', '/etc/xgate/wasm/waf.wasm'], {});
    expect(o.pipeline.sourceRanges).toEqual({ allow: ['10.0.0.0/8', '::1/128'], deny: ['10.9.0.0/16'] });
    expect(o.pipeline.trustedHops).toBe(2);
    expect(o.pipeline.wafModule).toBe('/etc/xgate/wasm/waf.wasm');
    expect(parseTranslate(['-f', 'x', '--trusted-hops', '1'], 'translate').pipeline.trustedHops).toBe(1);
  });
  it('defaults: nothing set', () => {
    const o = parseServe(['--manifests', '/tmp'], {});
    expect(o.pipeline.sourceRanges).toBeUndefined();
    expect(o.pipeline.trustedHops).toBeUndefined();
    expect(o.pipeline.wafModule).toBeUndefined();
  });
  for (const args of [['--allow-source-range', 'nope'], ['--deny-source-range', ''], ['--trusted-hops=-1'], ['--trusted-hops', '11'], ['--trusted-hops', 'x'], ['--waf-module', 'waf.wasm']]) {
    it(`refuses ${args.join(' ')}`, () => expect(() => parseServe(['--manifests', '/tmp', ...args], {})).toThrow(UsageError));
  }
});

describe('Envoy accepts the instance-level configuration', () => {
  const wasm = join(repoRoot(), 'wasm-plugins', 'waf', 'dist', 'waf.wasm');
  const manifests = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'xgate' }, spec: { controller: 'xgate.io/ingress-controller' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'w', namespace: 'default', annotations: { [`${X}waf`]: 'block', [`${N}limit-rps`]: '5', [`${N}whitelist-source-range`]: '10.0.0.0/8' } },
      spec: { ingressClassName: 'xgate', rules: [{ host: 'w.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    },
  ];

  it('instance lists, trusted hops and the Wasm WAF filters (envoy --mode validate)', async () => {
    expect(existsSync(wasm)).toBe(true);
    const opts = { ...DEFAULT_PIPELINE_OPTIONS, sourceRanges: { allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] }, trustedHops: 2, wafModule: wasm };
    const result = translateStore(snapshotOf(manifests as never), opts);
    const hcm = ((result.resources['envoy']!.listeners[0]!['filter_chains'] as JsonObject[])[0]!['filters'] as JsonObject[])[0]!['typed_config'] as JsonObject;
    expect(hcm['xff_num_trusted_hops']).toBe(2);
    const names = (hcm['http_filters'] as JsonObject[]).map((f) => f['name']);
    expect(names).toEqual(['envoy.filters.http.rbac', 'envoy.filters.http.local_ratelimit', 'envoy.filters.http.cors', 'xgate.waf.block', 'xgate.waf.detect', 'envoy.filters.http.router']);
    const v = await validateWithEnvoy(result.resources['envoy']!);
    expect(v.message).toBe(v.ok ? v.message : '(accepted)');
  }, 60_000);
});
