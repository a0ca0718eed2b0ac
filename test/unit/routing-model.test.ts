// Table tests for model/routing.ts: regex paths, rewrites per path type, HTTPS redirect routes.
import { describe, expect, it } from 'vitest';
import { RE2JS } from 're2js';
import { DiagnosticSink } from '../../control-plane/src/diagnostics.js';
import type { PathMatch, Route, RoutePolicy } from '../../control-plane/src/model/ir.js';
import { envoyPathRegex, prefixRewrite, routePathMatch, specPathKey, targetRewrite, withHttpsRedirects, type PathRewrite } from '../../control-plane/src/model/routing.js';
import { compareRoutes } from '../../control-plane/src/model/paths.js';

/** What Envoy does with a PathRewrite (RE2 GlobalReplace for regex_rewrite), for a path that matched. */
function rewrite(path: PathMatch, rw: PathRewrite, reqPath: string): string {
  if (rw.kind === 'regex') return RE2JS.compile(rw.pattern).matcher(reqPath).replaceAll(rw.substitution.replace(/\\([0-9])/g, '$$$1'));
  const matchedLength = path.type === 'Exact' ? path.value.length : path.value === '/' && path.type === 'Prefix' ? 1 : path.value.length;
  return rw.value + reqPath.slice(matchedLength);
}

function matches(m: PathMatch, p: string): boolean {
  const ci = (s: string) => (m.ignoreCase ? s.toLowerCase() : s);
  switch (m.type) {
    case 'Exact':
      return ci(p) === ci(m.value);
    case 'Prefix':
      return m.value === '/' || ci(p) === ci(m.value) || ci(p).startsWith(`${ci(m.value)}/`);
    case 'StringPrefix':
      return ci(p).startsWith(ci(m.value));
    case 'Regex':
      return RE2JS.compile(envoyPathRegex(m)).matches(p);
  }
}

describe('regex paths', () => {
  const nginx: RoutePolicy = { pathRegex: { full: false, ignoreCase: true } };
  const higressFull: RoutePolicy = { pathRegex: { full: true, ignoreCase: false } };
  it.each([
    [nginx, '/api/v[0-9]+', '/API/v2/users', true],
    [nginx, '/api/v[0-9]+', '/x/api/v2', false],
    [higressFull, '/api/v[0-9]+', '/api/v2', true],
    [higressFull, '/api/v[0-9]+', '/api/v2/users', false],
    [higressFull, '/api/v[0-9]+', '/API/v2', false],
  ])('%j %s on %s → %s', (policy, path, req, want) => {
    const pm = routePathMatch(path, 'ImplementationSpecific', policy);
    expect(pm.ok).toBe(true);
    if (pm.ok) expect(matches(pm.match, req)).toBe(want);
  });

  it('leaves Exact and Prefix paths literal, and ImplementationSpecific without use-regex', () => {
    expect(routePathMatch('/a', 'Prefix', nginx)).toEqual({ ok: true, match: { type: 'Prefix', value: '/a' } });
    expect(routePathMatch('/a', 'Exact', { ignorePathCase: true })).toEqual({ ok: true, match: { type: 'Exact', value: '/a', ignoreCase: true } });
    expect(routePathMatch('/a', 'ImplementationSpecific', undefined)).toEqual({ ok: true, match: { type: 'StringPrefix', value: '/a' } });
  });

  it.each([['/a/(b'], ['a/b'], ['/a b'], ['/(?=x)'], ['/x{300}']])('rejects %s', (path) => {
    const pm = routePathMatch(path, 'ImplementationSpecific', nginx);
    expect(pm.ok).toBe(false);
    if (!pm.ok) expect(pm.code).toBe('XG_ROUTING_PATH_REGEX_INVALID');
  });

  it('spec keys identify a path as written (canaries find a regex primary)', () => {
    expect(specPathKey('/a/', 'Prefix')).toBe('Prefix:/a');
    expect(specPathKey('/', 'Prefix')).toBe('Prefix:/');
    expect(specPathKey(undefined, undefined)).toBe('StringPrefix:/');
    expect(specPathKey('/api/[0-9]+', 'ImplementationSpecific')).toBe('StringPrefix:/api/[0-9]+');
    expect(specPathKey('/a b', 'Exact')).toBeUndefined();
    expect(specPathKey('/a', 'Regex')).toBeUndefined();
  });
});

describe('rewrite-target (nginx: the whole path replaced, $n groups)', () => {
  const rx = (value: string, ignoreCase = true): PathMatch => ({ type: 'Regex', value, prefix: true, ignoreCase });
  it.each([
    [rx('/something(/|$)(.*)'), '/$2', '/something/a/b', '/a/b'],
    [rx('/something(/|$)(.*)'), '/$2', '/something', '/'],
    [rx('/something(/|$)(.*)'), '/$2', '/SOMETHING/X', '/X'],
    [rx('/api/(v[0-9]+)/(.*)'), '/$2/$1', '/api/v2/users/7', '/users/7/v2'],
    [{ type: 'Prefix', value: '/old' } as PathMatch, '/new', '/old/x/y', '/new'],
    [{ type: 'StringPrefix', value: '/a.b' } as PathMatch, '/c', '/a.b/x', '/c'],
    [{ type: 'Exact', value: '/e' } as PathMatch, '/f', '/e', '/f'],
  ])('%j with %s: %s → %s', (path, target, req, want) => {
    expect(rewrite(path, targetRewrite(path, target), req)).toBe(want);
  });

  it('a group the path does not have becomes "" with a warning', () => {
    const sink = new DiagnosticSink();
    const rw = targetRewrite(rx('/one/(.*)'), '/x/$1/$3', sink, { kind: 'Ingress', namespace: 'd', name: 'n' }, 'f');
    expect(rw).toEqual({ kind: 'regex', pattern: '(?i)^(?:/one/(.*)).*', substitution: '/x/\\1/' });
    expect(sink.items.map((d) => d.code)).toEqual(['XG_ROUTING_REWRITE_GROUP']);
  });
});

describe('rewrite-path (Higress: the matched prefix replaced)', () => {
  it.each([
    [{ type: 'Prefix', value: '/app' }, '/inner', '/app/x', '/inner/x'],
    [{ type: 'Prefix', value: '/app' }, '/inner', '/app', '/inner'],
    [{ type: 'Prefix', value: '/app' }, '/', '/app/x', '/x'],
    [{ type: 'Prefix', value: '/app' }, '/', '/app', '/'],
    [{ type: 'Prefix', value: '/app' }, '/in/', '/app/x', '/in/x'],
    [{ type: 'Prefix', value: '/' }, '/inner', '/x', '/inner/x'],
    [{ type: 'StringPrefix', value: '/s/' }, '/t', '/s/x', '/t/x'],
    [{ type: 'StringPrefix', value: '/s' }, '/t', '/sx', '/tx'],
    [{ type: 'Exact', value: '/e' }, '/f', '/e', '/f'],
    [{ type: 'Regex', value: '/v[0-9]+', prefix: true }, '/api', '/v2/users', '/api/users'],
    [{ type: 'Regex', value: '/v[0-9]+/users', prefix: false }, '/all-users', '/v2/users', '/all-users'],
  ] as [PathMatch, string, string, string][])('%j with %s: %s → %s', (path, value, req, want) => {
    expect(matches(path, req)).toBe(true);
    expect(rewrite(path, prefixRewrite(path, value), req)).toBe(want);
  });
});

describe('HTTPS redirect routes', () => {
  const ref = { kind: 'Ingress', namespace: 'd', name: 'n' };
  const route = (name: string, policy?: RoutePolicy, redirect = false): Route => ({
    name,
    match: { path: { type: 'Prefix', value: `/${name}` } },
    action: redirect ? { kind: 'redirect', code: 301, path: '/x' } : { kind: 'forward', backends: [{ cluster: 'c', weight: 1 }] },
    source: ref,
    ...(policy ? { policy } : {}),
  });

  it('nothing on a host without TLS unless forced', () => {
    expect(withHttpsRedirects([route('a'), route('b')], false).map((r) => r.name)).toEqual(['a', 'b']);
    expect(withHttpsRedirects([route('a', { forceSslRedirect: true }), route('b')], false).map((r) => r.name)).toEqual(['a#https-redirect', 'a', 'b']);
  });

  it('one catch-all first when every route of a TLS host wants it (the default)', () => {
    const out = withHttpsRedirects([route('a'), route('b')], true);
    expect(out.map((r) => r.name)).toEqual(['#https-redirect', 'a', 'b']);
    expect(out[0]!.match).toEqual({ path: { type: 'StringPrefix', value: '/' }, headers: [{ name: 'x-forwarded-proto', match: { type: 'Exact', value: 'http' } }] });
    expect(out[0]!.action).toEqual({ kind: 'redirect', code: 308, scheme: 'https' });
  });

  it('per route when some opt out or redirect anyway (nginx answers its return first)', () => {
    expect(withHttpsRedirects([route('a', { sslRedirect: false }), route('b')], true).map((r) => r.name)).toEqual(['a', 'b#https-redirect', 'b']);
    expect(withHttpsRedirects([route('a', undefined, true), route('b')], true).map((r) => r.name)).toEqual(['a', 'b#https-redirect', 'b']);
  });

  it('orders routes with more conditions first on the same path', () => {
    const plain = route('a');
    const cond: Route = { ...route('a'), name: 'cond', match: { ...plain.match, headers: [{ name: 'x', match: { type: 'Exact', value: '1' } }] } };
    expect([plain, cond].sort(compareRoutes).map((r) => r.name)).toEqual(['cond', 'a']);
  });
});
