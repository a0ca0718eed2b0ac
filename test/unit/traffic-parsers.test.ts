// Table tests for the traffic families' parsers and their diagnostics.
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../control-plane/src/diagnostics.js';
import { AnnotationReader } from '../../control-plane/src/annotations/reader.js';
import type { AnnotationFamily, FamilyContext } from '../../control-plane/src/annotations/family.js';
import { resolveBackend } from '../../control-plane/src/model/backends.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import type { Ingress, Service } from '../../control-plane/src/sources/k8s-types.js';
import { corsFamily, parseOrigin, parseOrigins, parseTokenList } from '../../control-plane/src/annotations/traffic/cors.js';
import { headerControlFamily, parseHeaderLines, parseHeaderNames } from '../../control-plane/src/annotations/traffic/headers.js';
import { parseNextUpstream, retryFamily } from '../../control-plane/src/annotations/traffic/retry.js';
import { mirrorFamily, parsePercent } from '../../control-plane/src/annotations/traffic/mirror.js';
import { customErrorsFamily, parseStatusCodes } from '../../control-plane/src/annotations/traffic/custom-errors.js';
import { escapeHeaderValue, headerNameProblem, headerValueProblem, parseServiceRef } from '../../control-plane/src/annotations/traffic/common.js';
import { RE2JS } from 're2js';

const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';
const ref = { kind: 'Ingress', namespace: 'shop', name: 'api' };

function service(name: string, ports: Array<{ name?: string; port: number }>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { ports } } as Service;
}
const store = snapshotOf([service('shadow', [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }]), service('errors', [{ port: 80 }])]);

function run(family: AnnotationFamily, annotations: Record<string, string>) {
  const sink = new DiagnosticSink();
  const r = new AnnotationReader(annotations, ref, sink);
  const used: string[] = [];
  const ctx: FamilyContext = {
    ingress: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'api', namespace: 'shop', annotations } } as Ingress,
    namespace: 'shop',
    ref,
    store,
    diagnosticsOnly: false,
    useBackend: (b) => {
      const res = resolveBackend('shop', b, store);
      if (res.ok) used.push(res.cluster.name);
      return res;
    },
    external: () => undefined,
  };
  const policy = family.parse(r, ctx);
  const host = family.parseHost?.(r, ctx);
  r.reportUnknown();
  return { policy, host, codes: sink.items.map((d) => d.code), messages: sink.items.map((d) => d.message), used };
}

describe('common grammars', () => {
  it.each([
    ['x-env', undefined],
    ['X_Weird~Token', undefined],
    [':path', 'pseudo-header'],
    ['host', 'Host cannot'],
    ['Transfer-Encoding', 'framing'],
    ['content-length', 'framing'],
    ['x bad', 'not an HTTP header name'],
    ['x:y', 'not an HTTP header name'],
    ['', 'not an HTTP header name'],
  ])('header name %j', (name, problem) => {
    const p = headerNameProblem(name);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(problem);
  });

  it.each([
    ['plain value', true],
    ['', true],
    ['tab\there', true],
    ['a\rb', false],
    ['a\nb', false],
    ['nul\0', false],
    ['é', false],
    ['x'.repeat(4097), false],
  ])('header value %j ok=%s', (v, ok) => expect(headerValueProblem(v) === undefined).toBe(ok));

  it('escapes every % so no command operator survives', () => {
    expect(escapeHeaderValue('%DOWNSTREAM_REMOTE_ADDRESS% 100%')).toBe('%%DOWNSTREAM_REMOTE_ADDRESS%% 100%%');
  });

  it.each([
    ['web', { name: 'web' }],
    ['shop/web', { namespace: 'shop', name: 'web' }],
    ['web:8080', { name: 'web', port: 8080 }],
    ['shop/web:http', { namespace: 'shop', name: 'web', port: 'http' }],
    ['Web', undefined],
    ['web:0', undefined],
    ['web:70000', undefined],
    ['a/b/c', undefined],
    ['web:', undefined],
    ['web; evil', undefined],
    ['', undefined],
  ])('service ref %j', (v, want) => expect(parseServiceRef(v)).toEqual(want));
});

describe('CORS', () => {
  it.each([
    ['*', { type: 'any' }],
    ['https://App.Example.com', { type: 'exact', value: 'https://app.example.com' }],
    ['http://localhost:3000', { type: 'exact', value: 'http://localhost:3000' }],
    ['https://*.example.com', { type: 'regex', value: '(?i)https://[a-z0-9-]+\\.example\\.com' }],
    ['https://*.example.com:8443', { type: 'regex', value: '(?i)https://[a-z0-9-]+\\.example\\.com:8443' }],
  ])('origin %j', (raw, want) => expect(parseOrigin(raw)).toEqual(want));

  it.each(['javascript:alert(1)', 'https://', 'https://a.*.example.com', 'ftp://x.example.com', 'https://x.example.com/path', 'https://x.example.com:99999', 'https://*', 'null', 'https://ex ample.com'])(
    'rejects origin %j',
    (raw) => expect(typeof parseOrigin(raw)).toBe('string'),
  );

  it('wildcard origins match exactly one label, ignoring case (RE2, whole value)', () => {
    const o = parseOrigin('https://*.example.com');
    if (typeof o === 'string' || o.type !== 'regex') throw new Error('not a regex');
    const re = RE2JS.compile(o.value);
    expect(re.matches('https://a.example.com')).toBe(true);
    expect(re.matches('https://A-1.Example.COM')).toBe(true);
    expect(re.matches('https://a.b.example.com')).toBe(false);
    expect(re.matches('https://example.com')).toBe(false);
    expect(re.matches('https://a.example.com.evil.net')).toBe(false);
    expect(re.matches('http://a.example.com')).toBe(false);
  });

  it('refuses a wildcard origin whose regex Envoy would refuse (RE2 program size over 100)', () => {
    const long = `https://*.${'a'.repeat(60)}.${'b'.repeat(60)}.example.org:8443`;
    expect(parseOrigin(long)).toMatch(/too long for Envoy/);
    // The same host without a wildcard is an exact match: no regex, no limit.
    expect(parseOrigin(long.replace('*.', ''))).toMatchObject({ type: 'exact' });
  });

  it('a "*" anywhere in the list allows any origin; duplicates collapse', () => {
    expect(parseOrigins('https://a.example.com, *')).toEqual([{ type: 'any' }]);
    expect(parseOrigins('https://a.example.com,https://A.example.com')).toEqual([{ type: 'exact', value: 'https://a.example.com' }]);
    expect(typeof parseOrigins(' , ')).toBe('string');
  });

  it.each([
    ['GET, POST', 'methods', 'GET, POST'],
    ['GET,POST;', 'methods', undefined],
    ['X-Token, Content-Type', 'headers', 'X-Token,Content-Type'],
    ['X-Token\r\nEvil: 1', 'headers', undefined],
    ['*', 'expose', '*'],
    ['', 'expose', ''],
    ['', 'methods', undefined],
  ] as const)('token list %j (%s)', (v, what, want) => {
    const p = parseTokenList(v, what);
    if (want === undefined) expect(typeof p).toBe('object');
    else expect(p).toBe(want);
  });

  it('fills ingress-nginx defaults', () => {
    const { policy, codes } = run(corsFamily, { [`${N}enable-cors`]: 'true' });
    expect(codes).toEqual([]);
    expect(policy).toEqual({
      cors: {
        origins: [{ type: 'any' }],
        allowMethods: 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
        allowHeaders: 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization',
        exposeHeaders: '',
        allowCredentials: true,
        maxAgeSeconds: 1728000,
      },
    });
  });

  it.each([
    [{ [`${N}enable-cors`]: 'yes' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}enable-cors`]: 'true', [`${N}cors-allow-origin`]: 'https://x.example.com, evil' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}enable-cors`]: 'true', [`${N}cors-max-age`]: '-1' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}enable-cors`]: 'true', [`${N}cors-allow-credentials`]: 'maybe' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}enable-cors`]: 'true', [`${N}cors-allow-methods`]: 'GET;' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}cors-allow-origin`]: 'https://x.example.com' }, 'XG_CORS_IGNORED'],
    [{ [`${N}enable-cors`]: 'false', [`${N}cors-max-age`]: '5' }, 'XG_CORS_IGNORED'],
  ])('drops the policy on %j with %s', (ann, code) => {
    const { policy, codes } = run(corsFamily, ann);
    expect(policy).toBeUndefined();
    expect(codes).toContain(code);
  });

  it('reads H keys too; N wins over H with a conflict warning', () => {
    const { policy, codes } = run(corsFamily, { [`${H}enable-cors`]: 'true', [`${N}cors-max-age`]: '10', [`${H}cors-max-age`]: '20' });
    expect(policy?.cors?.maxAgeSeconds).toBe(10);
    expect(codes).toEqual(['XG_ANNOTATION_CONFLICT']);
  });
});

describe('header control', () => {
  it('parses "name value" lines; the value keeps inner blanks; % is escaped', () => {
    expect(parseHeaderLines('x-a 1\n\n  X-B   two  words \r\nx-c 50%')).toEqual([
      { name: 'x-a', value: '1' },
      { name: 'x-b', value: 'two  words' },
      { name: 'x-c', value: '50%%' },
    ]);
  });

  it.each([
    ['', 'no header line'],
    ['x-a', 'is not "name value"'],
    ['x-a 1\rx-b 2', 'CR'],
    [':authority evil', 'pseudo-header'],
    ['Host evil', 'Host cannot'],
    ['content-length 0', 'framing'],
    ['x-a \u00e9', 'printable ASCII'],
    [Array.from({ length: 65 }, (_, i) => `x-${i} v`).join('\n'), 'more than 64'],
  ])('rejects %j', (v, why) => {
    const p = parseHeaderLines(v);
    expect(typeof p).toBe('string');
    expect(p).toContain(why);
  });

  it('parses remove lists', () => {
    expect(parseHeaderNames('X-Debug, x-debug , server')).toEqual(['x-debug', 'server']);
    expect(typeof parseHeaderNames('host')).toBe('string');
    expect(typeof parseHeaderNames(' , ')).toBe('string');
  });

  it('reads the six keys under H and M; an invalid key is dropped alone', () => {
    const { policy, codes } = run(headerControlFamily, {
      [`${H}request-header-control-add`]: 'x-a 1',
      [`${H}request-header-control-update`]: 'x-b 1\nx-b 2',
      'mse.ingress.kubernetes.io/request-header-control-remove': 'x-c',
      [`${H}response-header-control-add`]: 'x-only-name',
      [`${H}response-header-control-remove`]: 'x-d',
    });
    expect(codes).toEqual(['XG_ANNOTATION_INVALID']);
    expect(policy).toEqual({
      headerControl: {
        request: { add: [{ name: 'x-a', value: '1' }], update: [{ name: 'x-b', value: '2' }], remove: ['x-c'] },
        response: { add: [], update: [], remove: ['x-d'] },
      },
    });
  });

  it('is not read under the nginx prefix (Higress/MSE keys)', () => {
    const { policy, codes } = run(headerControlFamily, { [`${N}request-header-control-add`]: 'x-a 1' });
    expect(policy).toBeUndefined();
    expect(codes).toEqual(['XG_ANNOTATION_UNKNOWN']);
  });
});

describe('retries', () => {
  it.each([
    ['error timeout', { off: false, retryOn: ['connect-failure', 'refused-stream', 'reset'], statusCodes: [], nonIdempotent: false }],
    ['http_502,http_503 http_502', { off: false, retryOn: ['retriable-status-codes'], statusCodes: [502, 503], nonIdempotent: false }],
    ['invalid_header http_429 non_idempotent', { off: false, retryOn: ['reset', 'retriable-status-codes'], statusCodes: [429], nonIdempotent: true }],
    ['OFF', { off: true }],
  ])('proxy-next-upstream %j', (v, want) => expect(parseNextUpstream(v)).toEqual(want));

  it.each(['', 'off error', 'http_501', 'error; rm -rf', 'non_idempotent', 'http_5xx'])('rejects %j', (v) => expect(typeof parseNextUpstream(v)).toBe('string'));

  it('tries count the first attempt (nginx); default 3; timeout is per try', () => {
    expect(run(retryFamily, { [`${N}proxy-next-upstream-tries`]: '5' }).policy).toEqual({
      retry: { retryOn: ['connect-failure', 'refused-stream', 'reset'], statusCodes: [], numRetries: 4, nonIdempotent: false },
    });
    expect(run(retryFamily, { [`${N}proxy-next-upstream`]: 'http_503', [`${N}proxy-next-upstream-timeout`]: '7' }).policy).toEqual({
      retry: { retryOn: ['retriable-status-codes'], statusCodes: [503], numRetries: 2, perTryTimeoutSeconds: 7, nonIdempotent: false },
    });
    expect(run(retryFamily, { [`${N}proxy-next-upstream-tries`]: '0' }).policy?.retry?.numRetries).toBe(9);
    expect(run(retryFamily, { [`${N}proxy-next-upstream-tries`]: '1' }).policy).toBeUndefined();
  });

  it.each([
    [{ [`${N}proxy-next-upstream-tries`]: '11' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}proxy-next-upstream-tries`]: 'three' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}proxy-next-upstream-timeout`]: '1m' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}proxy-next-upstream`]: 'off', [`${N}proxy-next-upstream-tries`]: '3' }, 'XG_RETRY_IGNORED'],
  ])('no retries for %j (%s)', (ann, code) => {
    const { policy, codes } = run(retryFamily, ann);
    expect(policy).toBeUndefined();
    expect(codes).toContain(code);
  });
});

describe('mirroring', () => {
  it.each([
    ['50', 50],
    ['0', 0],
    ['100', 100],
    ['12.5', 12.5],
    ['101', undefined],
    ['-1', undefined],
    ['50%', undefined],
    ['1e2', undefined],
  ])('percentage %j', (v, want) => expect(parsePercent(v)).toBe(want));

  it('resolves the Service (first port by default, or a named port) and registers its cluster', () => {
    const a = run(mirrorFamily, { [`${H}mirror-target-service`]: 'shadow', [`${H}mirror-percentage`]: '30' });
    expect(a.policy).toEqual({ mirror: { cluster: 'shop/shadow/8080', percent: 30 } });
    expect(a.used).toEqual(['shop/shadow/8080']);
    expect(run(mirrorFamily, { [`${H}mirror-target-service`]: 'shop/shadow:admin' }).policy).toEqual({ mirror: { cluster: 'shop/shadow/9090', percent: 100 } });
  });

  it.each([
    [{ [`${H}mirror-target-service`]: 'other/shadow' }, 'XG_MIRROR_NAMESPACE'],
    [{ [`${H}mirror-target-service`]: 'nope' }, 'XG_MIRROR_SERVICE'],
    [{ [`${H}mirror-target-service`]: 'shadow:7' }, 'XG_MIRROR_SERVICE'],
    [{ [`${H}mirror-target-service`]: 'Shadow!' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${H}mirror-target-service`]: 'shadow', [`${H}mirror-percentage`]: 'half' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${H}mirror-percentage`]: '10' }, 'XG_MIRROR_IGNORED'],
    [{ [`${N}mirror-target`]: 'https://test.example.com$request_uri' }, 'XG_MIRROR_UNSUPPORTED'],
  ])('no mirror for %j (%s)', (ann, code) => {
    const { policy, codes, used } = run(mirrorFamily, ann);
    expect(policy).toBeUndefined();
    expect(codes).toContain(code);
    expect(used).toEqual([]);
  });
});

describe('custom errors', () => {
  it.each([
    ['404', [404]],
    ['503, 404,404', [404, 503]],
    ['200', undefined],
    ['302', undefined],
    ['600', undefined],
    ['4o4', undefined],
    ['', undefined],
  ])('codes %j', (v, want) => {
    const p = parseStatusCodes(v);
    if (want === undefined) expect(typeof p).toBe('string');
    else expect(p).toEqual(want);
  });

  it('needs the default backend; marks the Ingress\'s hosts', () => {
    const a = run(customErrorsFamily, { [`${N}default-backend`]: 'errors', [`${N}custom-http-errors`]: '404,500' });
    expect(a.codes).toEqual([]);
    expect(a.policy).toEqual({ customErrors: { cluster: 'shop/errors/80', codes: [404, 500], namespace: 'shop', ingress: 'api', service: 'errors', port: 80 } });
    expect(a.host).toEqual({ customErrorRoutes: true });
    const b = run(customErrorsFamily, { [`${N}default-backend`]: 'errors' });
    expect(b.policy?.customErrors?.codes).toEqual([]);
  });

  it.each([
    [{ [`${N}custom-http-errors`]: '404' }, 'XG_CUSTOM_ERRORS_NO_BACKEND'],
    [{ [`${N}default-backend`]: 'other/errors' }, 'XG_DEFAULT_BACKEND_NAMESPACE'],
    [{ [`${N}default-backend`]: 'missing' }, 'XG_DEFAULT_BACKEND_SERVICE'],
    [{ [`${N}default-backend`]: 'errors:81' }, 'XG_DEFAULT_BACKEND_SERVICE'],
    [{ [`${N}default-backend`]: 'errors/x/y' }, 'XG_ANNOTATION_INVALID'],
  ])('no custom errors for %j (%s)', (ann, code) => {
    const { policy, host, codes } = run(customErrorsFamily, ann);
    expect(policy).toBeUndefined();
    expect(host).toBeUndefined();
    expect(codes).toContain(code);
  });

  it('an invalid code list keeps the default backend for Envoy\'s own 503s', () => {
    const { policy, codes } = run(customErrorsFamily, { [`${N}default-backend`]: 'errors', [`${N}custom-http-errors`]: '404,abc' });
    expect(codes).toEqual(['XG_ANNOTATION_INVALID']);
    expect(policy?.customErrors?.codes).toEqual([]);
  });
});
