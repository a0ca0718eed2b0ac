// Table tests for the upstream area's value grammars and families: load balancing and
// affinity, backend protocol and proxy-ssl-*, per-domain TLS, and the shared TLS values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiagnosticSink } from '../../control-plane/src/diagnostics.js';
import { AnnotationReader } from '../../control-plane/src/annotations/reader.js';
import { parseHashBy, readLoadBalancing } from '../../control-plane/src/annotations/load-balance.js';
import { readBackendProtocol } from '../../control-plane/src/annotations/backend-protocol.js';
import { readDownstreamTls } from '../../control-plane/src/annotations/downstream-tls.js';
import { ENVOY_CIPHERS, parseCipherList, parseOnOff, parseSecretRef, parseTlsVersion, parseTlsVersionList } from '../../control-plane/src/annotations/tls-values.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import type { Secret } from '../../control-plane/src/sources/k8s-types.js';
import { checkCaBundle } from '../../control-plane/src/model/tls.js';

const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';
const PKI = path.join(import.meta.dirname, '..', 'fixtures', 'certs', 'upstream');
const pem = (f: string) => readFileSync(path.join(PKI, f), 'utf8');

function reader(annotations: Record<string, string>) {
  const sink = new DiagnosticSink();
  const r = new AnnotationReader(annotations, { kind: 'Ingress', namespace: 'default', name: 'x' }, sink);
  return { r, sink, codes: () => sink.items.map((d) => d.code) };
}

function secret(name: string, data: Record<string, string>, ns = 'default'): Secret {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, type: 'Opaque', stringData: data } as unknown as Secret;
}

const store = snapshotOf([
  secret('both', { 'ca.crt': pem('ca.crt'), 'tls.crt': pem('client.crt'), 'tls.key': pem('client.key') }),
  secret('ca-only', { 'ca.crt': pem('ca.crt') }),
  secret('bad-ca', { 'ca.crt': 'not a certificate' }),
  secret('mismatch', { 'ca.crt': pem('ca.crt'), 'tls.crt': pem('client.crt'), 'tls.key': pem('other-client.key') }),
  secret('empty', { foo: 'bar' }),
]);

describe('upstream-hash-by grammar', () => {
  it.each([
    ['$request_uri', [{ kind: 'header', name: ':path' }]],
    ['$host', [{ kind: 'header', name: ':authority' }]],
    ['$remote_addr', [{ kind: 'sourceIp' }]],
    ['$binary_remote_addr', [{ kind: 'sourceIp' }]],
    ['$http_x_user', [{ kind: 'header', name: 'x-user' }]],
    ['$http_X_Tenant_Id', [{ kind: 'header', name: 'x-tenant-id' }]],
    ['$arg_id', [{ kind: 'query', name: 'id' }]],
    ['$cookie_sid', [{ kind: 'cookie', name: 'sid' }]],
    ['${host}${request_uri}', [{ kind: 'header', name: ':authority' }, { kind: 'header', name: ':path' }]],
    ['$remote_addr-$host $request_uri', [{ kind: 'sourceIp' }, { kind: 'header', name: ':authority' }, { kind: 'header', name: ':path' }]],
    ['  $host$host  ', [{ kind: 'header', name: ':authority' }]],
  ])('%s', (value, sources) => {
    expect(parseHashBy(value)).toEqual({ ok: true, sources });
  });

  it.each([
    ['', 'must be 1 to 256'],
    ['no variable', 'names no variable'],
    ['$uri', '$uri is not supported'],
    ['$args', '$args is not supported'],
    ['$http_', 'is not a header name'],
    ['$arg_', 'is not a query parameter name'],
    ['$host$', 'is not a variable'],
    ['$host\n$request_uri', 'control characters'],
    ['$'.repeat(300), 'must be 1 to 256'],
  ])('refuses %j', (value, why) => {
    const r = parseHashBy(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.why).toContain(why);
  });
});

describe('load balancing family', () => {
  it.each([
    [{ [`${N}load-balance`]: 'round_robin' }, { loadBalancing: { algorithm: 'ROUND_ROBIN' } }],
    [{ [`${N}load-balance`]: 'LEAST_CONN' }, { loadBalancing: { algorithm: 'LEAST_REQUEST' } }],
    [{ [`${H}load-balance`]: 'random' }, { loadBalancing: { algorithm: 'RANDOM' } }],
    [{ [`${N}upstream-hash-by`]: '$host' }, { loadBalancing: { algorithm: 'RING_HASH', affinity: 'hash' }, hashPolicy: [{ kind: 'header', name: ':authority' }] }],
    [{ [`${N}upstream-hash-by`]: '$host', 'xgate.io/upstream-hash-algorithm': 'maglev' }, { loadBalancing: { algorithm: 'MAGLEV', affinity: 'hash' } }],
    [{ [`${N}affinity`]: 'cookie' }, { loadBalancing: { algorithm: 'RING_HASH', affinity: 'cookie' }, hashPolicy: [{ kind: 'cookie', name: 'INGRESSCOOKIE', ttlSeconds: 0, path: '/' }] }],
    [
      { [`${N}affinity`]: 'cookie', [`${N}session-cookie-name`]: 'sid', [`${N}session-cookie-expires`]: '60', [`${N}session-cookie-path`]: '/app', [`${N}session-cookie-samesite`]: 'strict', [`${N}session-cookie-secure`]: 'true' },
      { hashPolicy: [{ kind: 'cookie', name: 'sid', ttlSeconds: 60, path: '/app', attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'Secure', value: '' }] }] },
    ],
    // Max-Age wins over Expires.
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-expires`]: '60', [`${N}session-cookie-max-age`]: '30' }, { hashPolicy: [{ kind: 'cookie', ttlSeconds: 30 }] }],
  ])('%j', (annotations, want) => {
    const { r, codes } = reader(annotations);
    expect(readLoadBalancing(r)).toMatchObject(want);
    expect(codes()).toEqual([]);
  });

  it('precedence: cookie > hash > load-balance, with XG_LB_SHADOWED', () => {
    const { r, codes } = reader({ [`${N}affinity`]: 'cookie', [`${N}upstream-hash-by`]: '$host', [`${N}load-balance`]: 'random' });
    expect(readLoadBalancing(r)).toMatchObject({ loadBalancing: { affinity: 'cookie' } });
    expect(codes()).toEqual(['XG_LB_SHADOWED', 'XG_LB_SHADOWED']);
    const h = reader({ [`${N}upstream-hash-by`]: '$host', [`${N}load-balance`]: 'random' });
    expect(readLoadBalancing(h.r)).toMatchObject({ loadBalancing: { affinity: 'hash' } });
    expect(h.codes()).toEqual(['XG_LB_SHADOWED']);
  });

  it.each([
    [{ [`${N}load-balance`]: 'ewma' }, ['XG_LB_UNSUPPORTED'], undefined],
    [{ [`${N}load-balance`]: 'fastest' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'ip' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-name`]: 'a b' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-path`]: 'app' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-path`]: '/a;b' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-max-age`]: '-1' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-samesite`]: 'maybe' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-secure`]: 'yes' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-domain`]: 'exa mple' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}affinity`]: 'cookie', [`${N}affinity-mode`]: 'sticky' }, ['XG_ANNOTATION_INVALID'], undefined],
    [{ [`${N}session-cookie-name`]: 'sid' }, ['XG_AFFINITY_INCOMPLETE'], undefined],
    // A broken cookie setting falls back to the next key in precedence.
    [{ [`${N}affinity`]: 'cookie', [`${N}session-cookie-samesite`]: 'x', [`${N}upstream-hash-by`]: '$host' }, ['XG_ANNOTATION_INVALID'], { loadBalancing: { affinity: 'hash' } }],
  ])('%j → %j', (annotations, wantCodes, want) => {
    const { r, codes } = reader(annotations);
    const got = readLoadBalancing(r);
    if (want) expect(got).toMatchObject(want);
    else expect(got).toBeUndefined();
    expect(codes()).toEqual(wantCodes);
  });

  it('affinity-mode persistent is accepted with XG_AFFINITY_MODE', () => {
    const { r, codes } = reader({ [`${N}affinity`]: 'cookie', [`${N}affinity-mode`]: 'persistent' });
    expect(readLoadBalancing(r)).toMatchObject({ loadBalancing: { affinity: 'cookie' } });
    expect(codes()).toEqual(['XG_AFFINITY_MODE']);
  });
});

describe('backend-protocol and proxy-ssl-*', () => {
  const read = (a: Record<string, string>) => {
    const x = reader(a);
    return { res: readBackendProtocol(x.r, 'default', store), codes: x.codes() };
  };

  it.each(['HTTP', 'HTTP2', 'GRPC', 'http2', 'grpc'])('%s', (p) => {
    expect(read({ [`${N}backend-protocol`]: p })).toEqual({ res: { ok: true, spec: { protocol: p.toUpperCase(), annotation: `${N}backend-protocol` } }, codes: [] });
  });

  it('HTTPS with everything', () => {
    const { res, codes } = read({
      [`${N}backend-protocol`]: 'HTTPS',
      [`${N}proxy-ssl-secret`]: 'default/both',
      [`${N}proxy-ssl-verify`]: 'on',
      [`${N}proxy-ssl-name`]: 'Backend.Example.com',
      [`${N}proxy-ssl-server-name`]: 'on',
      [`${N}proxy-ssl-protocols`]: 'TLSv1.2 TLSv1.3',
      [`${N}proxy-ssl-ciphers`]: 'ECDHE-RSA-AES128-GCM-SHA256',
      [`${N}proxy-ssl-verify-depth`]: '3',
    });
    expect(codes).toEqual([]);
    expect(res).toMatchObject({
      ok: true,
      spec: {
        protocol: 'HTTPS',
        tls: { verify: true, name: 'backend.example.com', serverName: true, minVersion: 'TLSv1_2', maxVersion: 'TLSv1_3', ciphers: ['ECDHE-RSA-AES128-GCM-SHA256'], verifyDepth: 3, ca: { name: 'default/both/ca.crt' }, client: { name: 'default/both/tls.crt' } },
      },
    });
  });

  it('GRPCS without verification (nginx default: proxy-ssl-verify off)', () => {
    expect(read({ [`${H}backend-protocol`]: 'GRPCS' }).res).toEqual({ ok: true, spec: { protocol: 'GRPCS', tls: { verify: false, serverName: false }, annotation: `${H}backend-protocol` } });
  });

  it.each([
    [{ [`${N}backend-protocol`]: 'AJP' }, 'XG_BACKEND_PROTOCOL_UNSUPPORTED'],
    [{ [`${N}backend-protocol`]: 'fcgi' }, 'XG_BACKEND_PROTOCOL_UNSUPPORTED'],
    [{ [`${N}backend-protocol`]: 'SPDY' }, 'XG_ANNOTATION_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-verify`]: 'yes' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-verify`]: 'on' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-verify`]: 'on', [`${N}proxy-ssl-secret`]: 'empty' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-server-name`]: 'maybe' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-name`]: 'not a name' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-protocols`]: 'SSLv3' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-ciphers`]: 'RC4-MD5' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-verify-depth`]: '1000' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-secret`]: 'other/both' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-secret`]: 'missing' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-secret`]: 'bad-ca' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-secret`]: 'mismatch' }, 'XG_UPSTREAM_TLS_INVALID'],
    [{ [`${N}backend-protocol`]: 'HTTPS', [`${N}proxy-ssl-secret`]: 'empty' }, 'XG_UPSTREAM_TLS_INVALID'],
  ])('%j fails closed with %s', (a, code) => {
    const { res, codes } = read(a);
    expect(res.ok).toBe(false);
    expect(codes).toEqual([code]);
  });

  it('proxy-ssl-* without HTTPS/GRPCS: XG_UPSTREAM_TLS_IGNORED', () => {
    expect(read({ [`${N}proxy-ssl-verify`]: 'on' })).toEqual({ res: { ok: true }, codes: ['XG_UPSTREAM_TLS_IGNORED'] });
    expect(read({ [`${N}backend-protocol`]: 'GRPC', [`${N}proxy-ssl-secret`]: 'both' }).codes).toEqual(['XG_UPSTREAM_TLS_IGNORED']);
  });
});

describe('per-domain downstream TLS', () => {
  const read = (a: Record<string, string>) => {
    const x = reader(a);
    return { res: readDownstreamTls(x.r, { namespace: 'default', store }), codes: x.codes() };
  };

  it.each([
    [{ [`${H}tls-min-protocol-version`]: 'TLSv1.2' }, { tlsVersions: { min: 'TLSv1_2' } }],
    [{ [`${H}tls-max-protocol-version`]: '1.2', [`${H}tls-min-protocol-version`]: 'TLSv1.0' }, { tlsVersions: { min: 'TLSv1_0', max: 'TLSv1_2' } }],
    [{ [`${N}ssl-ciphers`]: 'ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA' }, { tlsCiphers: ['ECDHE-RSA-AES128-GCM-SHA256', 'AES256-SHA'] }],
    [{ [`${H}ssl-cipher`]: 'ECDHE-RSA-AES128-GCM-SHA256' }, { tlsCiphers: ['ECDHE-RSA-AES128-GCM-SHA256'] }],
    [{ [`${N}auth-tls-secret`]: 'default/ca-only' }, { clientAuth: { mode: 'on', verifyDepth: 1, passCertificate: false, ca: { name: 'default/ca-only/ca.crt' } } }],
    [{ [`${N}auth-tls-secret`]: 'ca-only', [`${N}auth-tls-verify-client`]: 'optional_no_ca', [`${N}auth-tls-verify-depth`]: '3', [`${N}auth-tls-pass-certificate-to-upstream`]: 'true' }, { clientAuth: { mode: 'optional_no_ca', verifyDepth: 3, passCertificate: true } }],
  ])('%j', (a, host) => {
    const { res, codes } = read(a);
    expect(codes).toEqual([]);
    expect(res).toMatchObject({ failed: false, host });
  });

  it('auth-tls-verify-client off: no client authentication', () => {
    expect(read({ [`${N}auth-tls-secret`]: 'ca-only', [`${N}auth-tls-verify-client`]: 'off' })).toEqual({ res: { failed: false }, codes: [] });
  });

  it.each<Record<string, string>>([
    { [`${H}tls-min-protocol-version`]: 'SSLv3' },
    { [`${H}tls-max-protocol-version`]: 'TLSv1.4' },
    { [`${H}tls-min-protocol-version`]: 'TLSv1.3', [`${H}tls-max-protocol-version`]: 'TLSv1.2' },
    { [`${N}ssl-ciphers`]: 'HIGH:!aNULL:!MD5' },
    { [`${N}ssl-ciphers`]: 'TLS_AES_256_GCM_SHA384' },
    { [`${N}ssl-ciphers`]: 'ECDHE-RSA-AES128-GCM-SHA256:BOGUS' },
    { [`${N}auth-tls-secret`]: 'other/ca-only' },
    { [`${N}auth-tls-secret`]: 'missing' },
    { [`${N}auth-tls-secret`]: 'empty' },
    { [`${N}auth-tls-secret`]: 'bad-ca' },
    { [`${N}auth-tls-secret`]: 'ca-only', [`${N}auth-tls-verify-client`]: 'required' },
    { [`${N}auth-tls-secret`]: 'ca-only', [`${N}auth-tls-verify-depth`]: 'deep' },
    { [`${N}auth-tls-secret`]: 'ca-only', [`${N}auth-tls-pass-certificate-to-upstream`]: 'yes please' },
  ])('%j fails closed', (a) => {
    const { res, codes } = read(a);
    expect(res).toEqual({ failed: true });
    expect(codes).toEqual(['XG_DOWNSTREAM_TLS_INVALID']);
  });

  it('client-auth keys without auth-tls-secret: XG_DOWNSTREAM_TLS_IGNORED', () => {
    expect(read({ [`${N}auth-tls-verify-client`]: 'on' })).toEqual({ res: { failed: false }, codes: ['XG_DOWNSTREAM_TLS_IGNORED'] });
  });

  it('reads once per reader (parse and parseHost share it)', () => {
    const x = reader({ [`${N}ssl-ciphers`]: 'BOGUS' });
    readDownstreamTls(x.r, { namespace: 'default', store });
    readDownstreamTls(x.r, { namespace: 'default', store });
    expect(x.codes()).toEqual(['XG_DOWNSTREAM_TLS_INVALID']);
  });
});

describe('shared TLS values', () => {
  it.each([
    ['TLSv1.2', 'TLSv1_2'],
    ['tlsv1.3', 'TLSv1_3'],
    ['TLSv1_1', 'TLSv1_1'],
    ['1.0', 'TLSv1_0'],
    ['TLS1.2', 'TLSv1_2'],
    ['SSLv3', undefined],
    ['TLSv1.4', undefined],
    ['', undefined],
  ])('version %j', (v, want) => expect(parseTlsVersion(v)).toBe(want));

  it('version lists', () => {
    expect(parseTlsVersionList('TLSv1.2 TLSv1.3')).toEqual({ min: 'TLSv1_2', max: 'TLSv1_3' });
    expect(parseTlsVersionList('TLSv1 TLSv1.1')).toEqual({ min: 'TLSv1_0', max: 'TLSv1_1' });
    expect(parseTlsVersionList('SSLv3 TLSv1.2')).toHaveProperty('why');
    expect(parseTlsVersionList('')).toHaveProperty('why');
  });

  it('cipher lists: every accepted name, separators, duplicates', () => {
    expect(parseCipherList([...ENVOY_CIPHERS].join(':'))).toEqual({ ciphers: [...ENVOY_CIPHERS] });
    expect(parseCipherList('AES128-SHA, AES128-SHA AES256-SHA')).toEqual({ ciphers: ['AES128-SHA', 'AES256-SHA'] });
    for (const bad of ['', 'DES-CBC3-SHA', 'PSK-AES128-CBC-SHA', '!aNULL', 'ALL', 'ECDHE-RSA-AES256-SHA384', 'x'.repeat(1000)]) expect(parseCipherList(bad)).toHaveProperty('why');
    expect(parseCipherList(Array(33).fill('AES128-SHA').join(':'))).toHaveProperty('why');
  });

  it('secret references: same namespace only', () => {
    expect(parseSecretRef('ca', 'default')).toEqual({ name: 'ca' });
    expect(parseSecretRef('default/ca', 'default')).toEqual({ name: 'ca' });
    expect(parseSecretRef('kube-system/ca', 'default')).toHaveProperty('why');
    expect(parseSecretRef('Bad_Name', 'default')).toHaveProperty('why');
    expect(parseSecretRef('a/b/c', 'default')).toHaveProperty('why');
  });

  it('on/off', () => {
    expect([parseOnOff('on'), parseOnOff('TRUE'), parseOnOff('off'), parseOnOff('false'), parseOnOff('yes')]).toEqual([true, true, false, false, undefined]);
  });

  it('CA bundles', () => {
    expect(checkCaBundle(pem('ca.crt'))).toBeUndefined();
    expect(checkCaBundle(pem('ca.crt') + pem('other-ca.crt'))).toBeUndefined();
    expect(checkCaBundle('nothing')).toContain('no PEM certificate');
    expect(checkCaBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toContain('does not parse');
  });
});
