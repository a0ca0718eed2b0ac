// Table tests for the external-auth and OIDC parsers (annotations/auth-external/).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DiagnosticSink, type ObjectRef } from '../../control-plane/src/diagnostics.js';
import { AnnotationReader } from '../../control-plane/src/annotations/reader.js';
import type { FamilyContext } from '../../control-plane/src/annotations/family.js';
import { checkUrl, headerList } from '../../control-plane/src/annotations/auth-external/url.js';
import { extAuthFamily, parseTimeoutMs } from '../../control-plane/src/annotations/auth-external/ext-auth.js';
import { deriveHmacSecret, discoveryUrl, ingressCovers, oidcFamily, parseDiscovery } from '../../control-plane/src/annotations/auth-external/oidc.js';
import { snapshotOf, type StoreSnapshot } from '../../control-plane/src/sources/store.js';
import type { ExternalDocument } from '../../control-plane/src/sources/external.js';
import type { Ingress, WatchedObject } from '../../control-plane/src/sources/k8s-types.js';
import { extAuthzConfig, extAuthzFilterName, signinConfig } from '../../control-plane/src/translate/auth-external/ext-authz.js';
import { oauth2FilterName } from '../../control-plane/src/translate/auth-external/oauth2.js';
import { encodeAny } from '../../control-plane/src/xds/encode.js';

const ref: ObjectRef = { kind: 'Ingress', namespace: 'default', name: 'shop' };

function ingress(annotations: Record<string, string>, path = '/'): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'shop', namespace: 'default', annotations },
    spec: { rules: [{ host: 'shop.example.com', http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  } as Ingress;
}

function run(family: typeof extAuthFamily, annotations: Record<string, string>, opts: { objects?: WatchedObject[]; external?: Record<string, ExternalDocument>; path?: string } = {}) {
  const sink = new DiagnosticSink();
  const r = new AnnotationReader(annotations, ref, sink);
  const wanted: string[] = [];
  const base = snapshotOf(opts.objects ?? []);
  const store: StoreSnapshot = opts.external ? { ...base, external: new Map(Object.entries(opts.external)) } : base;
  const ctx: FamilyContext = {
    ingress: ingress(annotations, opts.path),
    namespace: 'default',
    ref,
    store,
    diagnosticsOnly: false,
    useBackend: () => {
      throw new Error('not used');
    },
    external: (url) => {
      wanted.push(url);
      return store.external?.get(url);
    },
  };
  const policy = family.parse(r, ctx);
  r.reportUnknown();
  return { policy, codes: sink.items.map((d) => d.code), messages: sink.items.map((d) => d.message), wanted };
}

describe('checkUrl', () => {
  it.each([
    ['http://auth.example.com/verify', true],
    ['https://10.0.0.1:8443/x', true],
    ['http://[::1]:8080/', true],
    ['http://auth.ns.svc.cluster.local', true],
    ['HTTP://Auth.Example.COM/Path', true],
    ['not a url', false],
    ['auth.example.com/verify', false],
    ['ftp://auth.example.com/', false],
    ['http://user:pw@auth.example.com/', false],
    ['http://auth.example.com/x;y', false],
    ['http://auth.example.com/{x}', false],
    ['http://auth.example.com/x}', false],
    ['http://auth.example.com/x\nHost: evil', false],
    ['http://auth.example.com/x\r', false],
    ['http://auth.example.com/x y', false],
    ['http://auth.example.com/"x"', false],
    ["http://auth.example.com/'x'", false],
    ['http://auth.example.com/x#frag', false],
    ['http://auth.example.com/%zz', false],
    ['http://auth_example.com/', false],
    ['http://auth.example.com/é', false],
    ['https://$host/oauth2/auth', false],
    ['https://auth.example.com/start?rd=$escaped_request_uri', false],
    ['', false],
  ])('%j → %s', (url, ok) => {
    expect(checkUrl(url).ok).toBe(ok);
  });

  it('never accepts a value holding a newline, ;, {, }, a quote or a space, wherever it is', () => {
    const bad = fc.constantFrom('\n', '\r', ';', '{', '}', '"', "'", ' ', '\t', '\u0000');
    fc.assert(
      fc.property(fc.string(), bad, fc.string(), (a, b, c) => {
        expect(checkUrl(`http://auth.example.com/${a}${b}${c}`).ok).toBe(false);
        expect(checkUrl(`${a}${b}${c}`).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('normalises the host and keeps path and query', () => {
    const c = checkUrl('HTTP://Auth.Example.COM:8080/a/b?c=d');
    expect(c.ok && c.value).toMatchObject({ scheme: 'http', host: 'auth.example.com', port: 8080, path: '/a/b', query: '?c=d' });
    const d = checkUrl('https://[::1]/');
    expect(d.ok && d.value).toMatchObject({ host: '::1', port: 443 });
  });
});

describe('small grammars', () => {
  it('reads header lists', () => {
    expect(headerList('X-User, x-email,,X-User')).toEqual({ ok: true, names: ['x-email', 'x-user'] });
    expect(headerList('Bad Header').ok).toBe(false);
    expect(headerList(':path').ok).toBe(false);
  });
  it.each([
    ['5s', 5000],
    ['500ms', 500],
    ['2.5', 2500],
    ['60s', 60000],
    ['61s', undefined],
    ['0', undefined],
    ['1m', undefined],
    ['-1s', undefined],
  ])('timeout %j → %j', (v, ms) => expect(parseTimeoutMs(v)).toBe(ms));
});

describe('external auth family', () => {
  const N = 'nginx.ingress.kubernetes.io/';

  it('reads a full config', () => {
    const { policy, codes } = run(extAuthFamily, {
      [`${N}auth-url`]: 'http://auth.auth.svc:8080/verify/',
      [`${N}auth-response-headers`]: 'X-User, X-Email',
      [`${N}auth-signin`]: 'https://login.example.com/start?app=1',
      [`${N}auth-signin-redirect-param`]: 'return_to',
      [`${N}auth-request-redirect`]: 'https://shop.example.com/',
      'xgate.io/auth-timeout': '3s',
      'xgate.io/auth-request-headers': 'Authorization, Cookie',
    });
    expect(codes).toEqual([]);
    expect(policy).toEqual({
      extAuth: {
        url: 'http://auth.auth.svc:8080/verify',
        scheme: 'http',
        host: 'auth.auth.svc',
        port: 8080,
        pathPrefix: '/verify',
        timeoutMs: 3000,
        requestHeaders: ['authorization', 'cookie'],
        responseHeaders: ['x-email', 'x-user'],
        requestRedirect: 'https://shop.example.com/',
        signin: { url: 'https://login.example.com/start?app=1', redirectParam: 'return_to' },
      },
    });
  });

  it('uses no path prefix for a root auth-url', () => {
    const { policy } = run(extAuthFamily, { [`${N}auth-url`]: 'https://auth.example.com' });
    expect(policy?.extAuth?.pathPrefix).toBe('');
    expect(policy?.extAuth?.timeoutMs).toBe(10_000);
  });

  it.each([
    [{ [`${N}auth-url`]: 'not a url' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/x;y' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/{x}' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/x\n' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/x?y=1' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/', 'xgate.io/auth-timeout': '2m' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/', [`${N}auth-signin`]: 'https://l.example.com/%2F' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/', [`${N}auth-signin`]: 'javascript:alert(1)' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/', [`${N}auth-request-redirect`]: '/x%0d' }, 'XG_AUTH_URL_INVALID'],
    [{ [`${N}auth-url`]: 'http://a.example.com/', [`${N}auth-snippet`]: 'return 200;' }, 'XG_AUTH_SNIPPET'],
  ])('fails closed on %j', (annotations, code) => {
    const { policy, codes } = run(extAuthFamily, annotations);
    expect(codes).toContain(code);
    expect(policy).toEqual({ failClosed: expect.objectContaining({ status: 403 }) });
  });

  it('warns about what it cannot apply', () => {
    expect(run(extAuthFamily, { [`${N}auth-url`]: 'http://a.example.com/', [`${N}auth-method`]: 'POST' }).codes).toEqual(['XG_AUTH_NOT_APPLIED']);
    const alone = run(extAuthFamily, { [`${N}auth-signin`]: 'https://l.example.com/' });
    expect(alone.policy).toBeUndefined();
    expect(alone.codes).toEqual(['XG_AUTH_NOT_APPLIED']);
  });

  it('gives one deterministic filter name per distinct config, and encodes', () => {
    const a = run(extAuthFamily, { [`${N}auth-url`]: 'http://a.example.com/v/' }).policy!.extAuth!;
    const b = run(extAuthFamily, { [`${N}auth-url`]: 'http://a.example.com:80/v' }).policy!.extAuth!;
    const c = run(extAuthFamily, { [`${N}auth-url`]: 'http://a.example.com/w' }).policy!.extAuth!;
    expect(extAuthzFilterName(a)).toBe(extAuthzFilterName(b));
    expect(extAuthzFilterName(a)).not.toBe(extAuthzFilterName(c));
    expect(extAuthzFilterName(a)).toMatch(/^xgate\.ext_authz\.[0-9a-f]{16}$/);
    const config = extAuthzConfig(a);
    expect(config['failure_mode_allow']).toBe(false);
    expect(() => encodeAny(config)).not.toThrow();
    expect(() => encodeAny(signinConfig({ url: 'https://l.example.com/', redirectParam: 'rd' }))).not.toThrow();
  });
});

describe('OIDC family', () => {
  const issuer = 'https://idp.example.com/realms/x';
  const disc = discoveryUrl(issuer);
  const good: ExternalDocument = {
    ok: true,
    url: disc,
    body: JSON.stringify({ issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: 'https://idp.example.com:8443/realms/x/token' }),
  };
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'oidc', namespace: 'default' }, type: 'Opaque', data: { 'client-secret': Buffer.from('s3cret').toString('base64') } } as WatchedObject;
  const keys = { 'xgate.io/oidc-issuer': issuer, 'xgate.io/oidc-client-id': 'app', 'xgate.io/oidc-client-secret': 'oidc' };

  it('asks for the discovery document and fails closed (503) until it is there', () => {
    const { policy, codes, wanted } = run(oidcFamily, keys, { objects: [secret] });
    expect(wanted).toEqual([`${issuer}/.well-known/openid-configuration`]);
    expect(codes).toEqual(['XG_OIDC_DISCOVERY']);
    expect(policy).toEqual({ failClosed: { status: 503, reason: 'OIDC provider discovery pending' } });
  });

  it('builds the provider config from the discovery document and the Secret', () => {
    const { policy, codes } = run(oidcFamily, { ...keys, 'xgate.io/oidc-scopes': 'email,profile' }, { objects: [secret], external: { [disc]: good } });
    expect(codes).toEqual([]);
    expect(policy?.oidc).toMatchObject({
      issuer,
      clientId: 'app',
      secretRef: { namespace: 'default', name: 'oidc' },
      authorizationEndpoint: `${issuer}/auth`,
      tokenEndpoint: { url: 'https://idp.example.com:8443/realms/x/token', host: 'idp.example.com', port: 8443, scheme: 'https' },
      scopes: ['openid', 'email', 'profile'],
      redirectPath: '/oauth2/callback',
      signoutPath: '/oauth2/signout',
      tokenAuth: 'basic',
      secrets: { clientSecret: 's3cret', hmacSecret: deriveHmacSecret('s3cret') },
    });
    // The instance name does not depend on the secret values (rotation does not touch LDS).
    const rotated = { ...policy!.oidc!, secrets: { clientSecret: 'new', hmacSecret: 'new' } };
    expect(oauth2FilterName(rotated)).toBe(oauth2FilterName(policy!.oidc!));
  });

  it('derives the HMAC secret deterministically', () => {
    expect(deriveHmacSecret('a')).toBe(deriveHmacSecret('a'));
    expect(deriveHmacSecret('a')).not.toBe(deriveHmacSecret('b'));
    expect(Buffer.from(deriveHmacSecret('a'), 'base64')).toHaveLength(32);
  });

  it.each([
    ['unreachable', { ok: false, url: disc, error: 'unreachable: ECONNREFUSED' } as ExternalDocument, 'could not be fetched'],
    ['not JSON', { ok: true, url: disc, body: '<html>' } as ExternalDocument, 'is not JSON'],
    ['an array', { ok: true, url: disc, body: '[]' } as ExternalDocument, 'not a JSON object'],
    ['another issuer', { ok: true, url: disc, body: JSON.stringify({ issuer: 'https://evil.example.com', authorization_endpoint: 'https://e/a', token_endpoint: 'https://e/t' }) } as ExternalDocument, 'names issuer'],
    ['a bad endpoint', { ok: true, url: disc, body: JSON.stringify({ issuer, authorization_endpoint: 'https://idp.example.com/a;b', token_endpoint: 'https://e/t' }) } as ExternalDocument, 'forbidden character'],
    ['no token endpoint', { ok: true, url: disc, body: JSON.stringify({ issuer, authorization_endpoint: 'https://idp.example.com/a' }) } as ExternalDocument, 'has no token_endpoint'],
  ])('fails closed (503) on a discovery document that is %s', (_n, doc, text) => {
    expect(parseDiscovery(doc, issuer).ok).toBe(false);
    const { policy, codes, messages } = run(oidcFamily, keys, { objects: [secret], external: { [disc]: doc } });
    expect(codes).toEqual(['XG_OIDC_DISCOVERY']);
    expect(messages[0]).toContain(text);
    expect(policy?.failClosed?.status).toBe(503);
  });

  it.each([
    [{ 'xgate.io/oidc-issuer': issuer }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-issuer': 'idp.example.com' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-client-id': 'a b' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-client-secret': 'Not_A_Name' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-client-secret': 'absent' }, 'XG_OIDC_SECRET'],
    [{ ...keys, 'xgate.io/oidc-redirect-path': '/cb%0a' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-redirect-path': '/oauth2/signout' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-scopes': 'openid {x}' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-pass-through-paths': '/ok, /x;y' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-cookie-prefix': 'a;b' }, 'XG_OIDC_INVALID'],
    [{ ...keys, 'xgate.io/oidc-token-auth': 'jwt' }, 'XG_OIDC_INVALID'],
  ])('fails closed (403) on %j', (annotations, code) => {
    const { policy, codes } = run(oidcFamily, annotations, { objects: [secret], external: { [disc]: good } });
    expect(codes).toContain(code);
    expect(policy?.failClosed?.status).toBe(403);
  });

  it('warns about the cookie settings Envoy cannot take and an unrouted callback', () => {
    const { policy, codes } = run(oidcFamily, { ...keys, 'xgate.io/oidc-cookie-samesite': 'Strict', 'xgate.io/oidc-cookie-domain': 'example.com' }, { objects: [secret], external: { [disc]: good } });
    expect(codes).toEqual(['XG_OIDC_NOT_APPLIED', 'XG_OIDC_NOT_APPLIED']);
    expect(policy?.oidc).toBeDefined();
    expect(run(oidcFamily, keys, { objects: [secret], external: { [disc]: good }, path: '/app' }).codes).toEqual(['XG_OIDC_NOT_APPLIED']);
  });

  it('knows which paths of an Ingress cover the callback', () => {
    expect(ingressCovers(ingress({}, '/'), '/oauth2/callback')).toBe(true);
    expect(ingressCovers(ingress({}, '/oauth2'), '/oauth2/callback')).toBe(true);
    expect(ingressCovers(ingress({}, '/oauth'), '/oauth2/callback')).toBe(false);
  });
});
