// Table tests for the JWT and Basic auth value grammars (annotations/auth-jwt.ts, auth-basic.ts).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseAudiences, parseClaimToHeaders, parseIssuer, parseJwks, parseJwksUri, parseSecretRef } from '../../control-plane/src/annotations/auth-jwt.js';
import { hashFormat, htpasswdText, parseAuthMap, parseHtpasswd } from '../../control-plane/src/annotations/auth-basic.js';
import { redactResources } from '../../control-plane/src/translate/redact.js';

const isErr = (v: unknown): boolean => typeof v === 'object' && v !== null && 'error' in v;
const sha = (pw: string) => `{SHA}${createHash('sha1').update(pw).digest('base64')}`;

describe('jwt-issuer', () => {
  it.each([
    ['https://issuer.example.com', true],
    ['internal issuer', true],
    ['', false],
    [' padded', false],
    ['tab\there', false],
    ['new\nline', false],
    ['x'.repeat(1025), false],
  ])('%j → ok=%s', (v, ok) => expect(!isErr(parseIssuer(v))).toBe(ok));
});

describe('jwt-audiences', () => {
  it('trims, deduplicates and sorts', () => expect(parseAudiences(' web ,api,web')).toEqual(['api', 'web']));
  it.each(['a,,b', ',', 'a,\u0001', Array.from({ length: 33 }, (_, i) => `a${i}`).join(',')])('rejects %j', (v) => expect(isErr(parseAudiences(v))).toBe(true));
});

describe('jwt-jwks-uri', () => {
  it.each([
    ['https://login.example.com/.well-known/jwks.json', 'https://login.example.com/.well-known/jwks.json'],
    ['http://10.0.0.1:8080/keys?x=1', 'http://10.0.0.1:8080/keys?x=1'],
    ['https://[::1]:8443/k', 'https://[::1]:8443/k'],
    ['HTTPS://Login.Example.com/k', 'https://login.example.com/k'],
  ])('accepts %j', (v, href) => expect(parseJwksUri(v)).toBe(href));
  it.each([
    'not a url',
    'keys.json',
    '/relative/path',
    'ftp://example.com/jwks',
    'file:///etc/passwd',
    'https://user:pw@example.com/jwks',
    'https://example.com/jwks\nx-injected: 1',
    'https://example.com/jwks;drop',
    'https://example.com/{jwks}',
    'https://example.com/jwks}',
    'https://example.com/a b',
    'https://example.com/jwks#frag',
    'https://example.com/"q"',
    '',
    `https://example.com/${'a'.repeat(2048)}`,
  ])('rejects %j', (v) => expect(isErr(parseJwksUri(v))).toBe(true));
});

describe('jwt-claim-to-header', () => {
  it('parses claim=header pairs, lowercasing headers', () =>
    expect(parseClaimToHeaders('sub=x-user, email=X-Email,realm_access.roles=x-roles')).toEqual([
      { claim: 'sub', header: 'x-user' },
      { claim: 'email', header: 'x-email' },
      { claim: 'realm_access.roles', header: 'x-roles' },
    ]));
  it.each(['sub', '=x-user', 'sub=', 'sub=x user', 'sub=x_user', 'a b=x-a', 'sub=host', 'sub=authorization', 'sub=x-envoy-foo', 'sub=x-a,email=x-a', 'sub=:path', 'a..b=x-a', 'sub=x-\na'])('rejects %j', (v) =>
    expect(isErr(parseClaimToHeaders(v))).toBe(true),
  );
});

describe('Secret references', () => {
  it.each([
    ['jwks', 'default', { name: 'jwks' }],
    ['default/jwks', 'default', { name: 'jwks' }],
  ])('%j in %s', (v, ns, want) => expect(parseSecretRef(v, ns)).toEqual(want));
  it('refuses another namespace', () => expect(parseSecretRef('other/jwks', 'default')).toMatchObject({ otherNamespace: true }));
  it.each(['a/b/c', 'Bad_Name', '', '/x', 'x/'])('rejects %j', (v) => expect(isErr(parseSecretRef(v, 'default'))).toBe(true));
});

describe('JWKS', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const rsaPriv = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });

  it('accepts RSA, EC and Ed25519 public keys and keeps only known members', () => {
    const out = parseJwks(JSON.stringify({ keys: [{ ...rsa, kid: 'a', alg: 'RS256', use: 'sig', x5t: 'zzz' }, { ...ec, kid: 'b' }, { ...ed, kid: 'c' }], extra: 1 }));
    expect(typeof out).toBe('string');
    const keys = (JSON.parse(out as string) as { keys: Array<Record<string, string>> }).keys;
    expect(keys.map((k) => k['kty'])).toEqual(['RSA', 'EC', 'OKP']);
    expect(keys[0]).not.toHaveProperty('x5t');
  });
  it.each([
    ['not JSON', '{"keys": ['],
    ['not an object', '[]'],
    ['no keys', '{}'],
    ['empty keys', '{"keys": []}'],
    ['key not an object', '{"keys": [1]}'],
    ['oct', '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}'],
    ['unknown kty', '{"keys":[{"kty":"XYZ"}]}'],
    ['private RSA key', JSON.stringify({ keys: [rsaPriv] })],
    ['RSA below 2048 bits', JSON.stringify({ keys: [small] })],
    ['bad modulus', JSON.stringify({ keys: [{ kty: 'RSA', n: 'abc', e: 'AQAB' }] })],
    ['n not base64url', JSON.stringify({ keys: [{ ...rsa, n: `${rsa.n}==` }] })],
    ['alg mismatch', JSON.stringify({ keys: [{ ...rsa, alg: 'ES256' }] })],
    ['use enc', JSON.stringify({ keys: [{ ...rsa, use: 'enc' }] })],
    ['EC curve', JSON.stringify({ keys: [{ ...ec, crv: 'secp256k1' }] })],
    ['kid with newline', JSON.stringify({ keys: [{ ...rsa, kid: 'a\nb' }] })],
    ['kid not a string', JSON.stringify({ keys: [{ ...rsa, kid: 7 }] })],
  ])('rejects %s', (_name, text) => expect(isErr(parseJwks(text))).toBe(true));
});

describe('htpasswd (auth-file)', () => {
  it('keeps {SHA} users, sorted; skips comments, blank lines and CRLF', () => {
    const r = parseHtpasswd(`# c\r\nbob:${sha('b')}\r\n\nalice:${sha('a')}\n`);
    expect(r.problems).toEqual([]);
    expect(htpasswdText(r.users)).toBe(`alice:${sha('a')}\nbob:${sha('b')}\n`);
  });
  it.each([
    ['apr1', '$apr1$Kx7z8Vb1$QjyQkPRh0x7qjXAnPKhJ5.'],
    ['bcrypt', '$2y$05$j0wkwHcoF8LUkm4crmVEruzsGJpT/VpoUJZWc3A7YQi7XPzG2C0li'],
    ['bcrypt', '$2b$10$YjwE1twnXFVTT1xUtCcjnOoh5s61qj7I6oyCNd2yKdNq17RqM3Vlu'],
    ['md5-crypt', '$1$abc$def'],
    ['sha256-crypt', '$5$abc$def'],
    ['sha512-crypt', '$6$abc$def'],
    ['ssha', '{SSHA}abcdefghijklmnopqrstuvwxyz01'],
    ['crypt', 'rl0nS2dMg1E2Y'],
    ['plain', 'hunter2'],
    ['plain', '{SHA}short='],
    ['plain', `${sha('a')}x`],
    ['plain', `${sha('a')}:comment`],
  ] as const)('drops a %s hash with XG_AUTH_BASIC_HASH_UNSUPPORTED', (format, hash) => {
    expect(hashFormat(hash)).toBe(format);
    const r = parseHtpasswd(`u:${hash}\nok:${sha('x')}\n`);
    expect(r.users.map((u) => u.user)).toEqual(['ok']);
    expect(r.problems.map((p) => p.code)).toEqual(['XG_AUTH_BASIC_HASH_UNSUPPORTED']);
    expect(r.problems[0]!.message).not.toContain(hash);
  });
  it.each([
    ['no colon', 'alice'],
    ['empty user', `:${sha('a')}`],
    ['user with space', `a b:${sha('a')}`],
    ['non-ASCII user', `Jürgen:${sha('a')}`],
  ])('drops a line with %s', (_n, line) => {
    const r = parseHtpasswd(`${line}\n`);
    expect(r.users).toEqual([]);
    expect(r.problems.map((p) => p.code)).toEqual(['XG_AUTH_BASIC_ENTRY_INVALID']);
  });
  it('keeps the first of duplicate users', () => {
    const r = parseHtpasswd(`a:${sha('1')}\na:${sha('2')}\n`);
    expect(r.users).toEqual([{ user: 'a', hash: sha('1') }]);
    expect(r.problems.map((p) => p.code)).toEqual(['XG_AUTH_BASIC_ENTRY_INVALID']);
  });
});

describe('auth-map', () => {
  it('keys are users, values hashes (a trailing newline tolerated)', () => {
    const r = parseAuthMap([
      ['carol', `${sha('c')}\n`],
      ['dave', '$2y$05$j0wkwHcoF8LUkm4crmVEruzsGJpT/VpoUJZWc3A7YQi7XPzG2C0li'],
    ]);
    expect(r.users).toEqual([{ user: 'carol', hash: sha('c') }]);
    expect(r.problems.map((p) => p.code)).toEqual(['XG_AUTH_BASIC_HASH_UNSUPPORTED']);
  });
});

describe('redaction', () => {
  it('hides per-route basic auth users in route configurations', () => {
    const route = { name: 'http', virtual_hosts: [{ name: 'a', routes: [{ typed_per_filter_config: { 'envoy.filters.http.basic_auth': { config: { users: { inline_string: `a:${sha('a')}\n` } } } } }] }] };
    const out = redactResources({ listeners: [], routes: [route], clusters: [], endpoints: [], secrets: [] });
    expect(JSON.stringify(out.routes)).not.toContain(sha('a'));
    expect(JSON.stringify(out.routes)).toContain('[redacted]');
  });
});
