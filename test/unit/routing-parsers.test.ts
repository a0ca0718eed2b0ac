// Table tests for the routing families' parsers and grammars (docs/routing.md).
import { describe, expect, it } from 'vitest';
import { DiagnosticSink, type ObjectRef } from '../../control-plane/src/diagnostics.js';
import { AnnotationReader } from '../../control-plane/src/annotations/reader.js';
import type { AnnotationFamily, FamilyContext } from '../../control-plane/src/annotations/family.js';
import { pathFamily } from '../../control-plane/src/annotations/routing/path.js';
import { matchFamily } from '../../control-plane/src/annotations/routing/match.js';
import { redirectFamily } from '../../control-plane/src/annotations/routing/redirect.js';
import { destinationFamily, parseDestination } from '../../control-plane/src/annotations/routing/destination.js';
import { checkRegex, parseHostPort, parseRedirectUrl } from '../../control-plane/src/annotations/routing/grammar.js';
import { resolveBackend } from '../../control-plane/src/model/backends.js';
import { parseManifests } from '../../control-plane/src/sources/manifests.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import type { StoreSnapshot } from '../../control-plane/src/sources/store.js';

const ref: ObjectRef = { kind: 'Ingress', namespace: 'default', name: 'x' };
const N = 'nginx.ingress.kubernetes.io/';
const H = 'higress.io/';

const STORE = snapshotOf(
  parseManifests(
    `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: default }
spec: { ports: [{ name: http, port: 80 }, { name: admin, port: 9000 }] }
`,
    'test.yaml',
  ).objects,
);

function run(family: AnnotationFamily, annotations: Record<string, string>, store: StoreSnapshot = STORE) {
  const sink = new DiagnosticSink();
  const r = new AnnotationReader(annotations, ref, sink);
  const used: string[] = [];
  const ctx: FamilyContext = {
    ingress: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x', namespace: 'default', annotations } } as FamilyContext['ingress'],
    namespace: 'default',
    ref,
    store,
    diagnosticsOnly: false,
    external: () => undefined,
    useBackend: (b) => {
      const res = resolveBackend('default', b, store);
      if (res.ok) used.push(res.cluster.name);
      return res;
    },
  };
  const policy = family.parse(r, ctx);
  r.reportUnknown();
  return { policy, codes: sink.items.map((d) => d.code), messages: sink.items.map((d) => d.message), used };
}

describe('path family (use-regex, rewrite-target, rewrite-path, full-path-regex, upstream-vhost, ignore-path-case)', () => {
  it.each([
    ['nginx use-regex: case-insensitive prefix regex', { [`${N}use-regex`]: 'true' }, { pathRegex: { full: false, ignoreCase: true } }],
    ['higress use-regex: case-sensitive', { [`${H}use-regex`]: 'true' }, { pathRegex: { full: false, ignoreCase: false } }],
    ['use-regex false', { [`${N}use-regex`]: 'false' }, undefined],
    ['rewrite-target implies regex', { [`${N}rewrite-target`]: '/$1' }, { pathRegex: { full: false, ignoreCase: true }, rewriteTarget: '/$1' }],
    ['rewrite-target with use-regex false still implies regex', { [`${N}rewrite-target`]: '/', [`${N}use-regex`]: 'false' }, { pathRegex: { full: false, ignoreCase: true }, rewriteTarget: '/' }],
    ['full-path-regex', { [`${H}full-path-regex`]: 'true' }, { pathRegex: { full: true, ignoreCase: false } }],
    ['ignore-path-case', { [`${H}ignore-path-case`]: 'true', [`${H}use-regex`]: 'true' }, { pathRegex: { full: false, ignoreCase: true }, ignorePathCase: true }],
    ['rewrite-path wins over rewrite-target', { [`${H}rewrite-path`]: '/inner', [`${N}rewrite-target`]: '/$1' }, { rewritePath: '/inner' }],
    ['upstream-vhost host', { [`${N}upstream-vhost`]: 'svc.internal' }, { hostRewrite: 'svc.internal' }],
    ['upstream-vhost host:port', { [`${N}upstream-vhost`]: 'svc.internal:8080' }, { hostRewrite: 'svc.internal:8080' }],
    ['upstream-vhost IPv6', { [`${N}upstream-vhost`]: '[::1]:80' }, { hostRewrite: '[::1]:80' }],
  ])('%s', (_, ann, want) => {
    const { policy, codes } = run(pathFamily, ann);
    expect(policy).toEqual(want);
    expect(codes.filter((c) => c !== 'XG_ROUTING_IGNORED')).toEqual([]);
  });

  it.each([
    ['use-regex not a bool', { [`${N}use-regex`]: 'yes' }],
    ['rewrite-target with an nginx variable', { [`${N}rewrite-target`]: '/$host/$1' }],
    ['rewrite-target without leading slash', { [`${N}rewrite-target`]: 'foo' }],
    ['rewrite-target with a query', { [`${N}rewrite-target`]: '/a?b=1' }],
    ['rewrite-target with a backslash', { [`${N}rewrite-target`]: '/a\\1' }],
    ['rewrite-target with $0', { [`${N}rewrite-target`]: '/$0' }],
    ['rewrite-path with a space', { [`${H}rewrite-path`]: '/a b' }],
    ['rewrite-path with a newline', { [`${H}rewrite-path`]: '/a\nproxy_pass x' }],
    ['upstream-vhost variable', { [`${N}upstream-vhost`]: '$host' }],
    ['upstream-vhost with a path', { [`${N}upstream-vhost`]: 'a.com/x' }],
    ['upstream-vhost with a space', { [`${N}upstream-vhost`]: 'a.com b.com' }],
    ['upstream-vhost port 0', { [`${N}upstream-vhost`]: 'a.com:0' }],
    ['upstream-vhost CRLF', { [`${N}upstream-vhost`]: 'a.com\r\nx-evil: 1' }],
  ])('rejects %s', (_, ann) => {
    const { codes } = run(pathFamily, ann);
    expect(codes).toContain('XG_ANNOTATION_INVALID');
  });
});

describe('match family (custom header, query and method conditions)', () => {
  it('reads every kind under H and M, sorted by name; methods as exact or alternation', () => {
    const { policy, codes } = run(matchFamily, {
      [`${H}exact-match-header-X-Env`]: 'beta',
      [`${H}prefix-match-header-user-agent`]: 'Mozilla',
      [`mse.ingress.kubernetes.io/regex-match-query-id`]: '[0-9]+',
      [`${H}exact-match-query-lang`]: 'en',
      [`${H}match-method`]: 'get, POST get',
    });
    expect(codes).toEqual([]);
    expect(policy).toEqual({
      customMatch: {
        headers: [
          { name: ':method', match: { type: 'Regex', value: 'GET|POST' } },
          { name: 'user-agent', match: { type: 'Prefix', value: 'Mozilla' } },
          { name: 'x-env', match: { type: 'Exact', value: 'beta' } },
        ],
        queryParams: [
          { name: 'id', match: { type: 'Regex', value: '[0-9]+' } },
          { name: 'lang', match: { type: 'Exact', value: 'en' } },
        ],
      },
    });
  });

  it('one method is an exact match', () => {
    expect(run(matchFamily, { [`${H}match-method`]: 'put' }).policy).toEqual({ customMatch: { headers: [{ name: ':method', match: { type: 'Exact', value: 'PUT' } }], queryParams: [] } });
  });

  it('nginx-prefixed keys are not read (Higress only) and are reported unknown', () => {
    const { policy, codes } = run(matchFamily, { [`${N}exact-match-header-x-env`]: 'beta' });
    expect(policy).toBeUndefined();
    expect(codes).toEqual(['XG_ANNOTATION_UNKNOWN']);
  });

  it.each([
    ['header name with "_"', { [`${H}exact-match-header-x_env`]: 'a' }],
    ['header host', { [`${H}exact-match-header-host`]: 'a' }],
    ['header value with a newline', { [`${H}exact-match-header-x-a`]: 'a\nb' }],
    ['empty header value', { [`${H}exact-match-header-x-a`]: '' }],
    ['bad regex', { [`${H}regex-match-header-x-a`]: '(' }],
    ['regex too complex for Envoy', { [`${H}regex-match-header-x-a`]: 'x{200}' }],
    ['query value with "&"', { [`${H}exact-match-query-a`]: 'x&y=1' }],
    ['two conditions on one header', { [`${H}exact-match-header-x-a`]: 'a', [`${H}prefix-match-header-x-a`]: 'b' }],
    ['unknown method', { [`${H}match-method`]: 'GET FETCH' }],
    ['empty method list', { [`${H}match-method`]: ' , ' }],
  ])('rejects %s: the routes are not served', (_, ann) => {
    const { policy, codes } = run(matchFamily, ann);
    expect(codes).toContain('XG_ANNOTATION_INVALID');
    expect(policy).toEqual({ customMatchInvalid: true });
  });
});

describe('redirect family', () => {
  it.each([
    ['nothing', {}, undefined],
    ['ssl-redirect false', { [`${N}ssl-redirect`]: 'false' }, { sslRedirect: false }],
    ['force-ssl-redirect', { [`${N}force-ssl-redirect`]: 'true' }, { forceSslRedirect: true }],
    ['permanent URL', { [`${N}permanent-redirect`]: 'https://a.example.com/x?y=1' }, { redirect: { kind: 'redirect', code: 301, scheme: 'https', host: 'a.example.com', path: '/x?y=1', stripQuery: true } }],
    ['permanent URL without path, with port and code', { [`${N}permanent-redirect`]: 'HTTP://A.example.com:8080', [`${N}permanent-redirect-code`]: '308' }, { redirect: { kind: 'redirect', code: 308, scheme: 'http', host: 'a.example.com', port: 8080, path: '/', stripQuery: true } }],
    ['permanent path', { [`${H}permanent-redirect`]: '/new' }, { redirect: { kind: 'redirect', code: 301, path: '/new', stripQuery: true } }],
    ['temporal with code', { [`${N}temporal-redirect`]: 'https://t.example.com', [`${N}temporal-redirect-code`]: '307' }, { redirect: { kind: 'redirect', code: 307, scheme: 'https', host: 't.example.com', path: '/', stripQuery: true } }],
    ['app-root', { [`${N}app-root`]: '/app1' }, { appRoot: '/app1' }],
  ])('%s', (_, ann, want) => {
    const { policy, codes } = run(redirectFamily, ann);
    expect(policy).toEqual(want);
    expect(codes).toEqual([]);
  });

  it('temporal-redirect wins over permanent-redirect, with a warning', () => {
    const { policy, codes } = run(redirectFamily, { [`${N}temporal-redirect`]: '/t', [`${N}permanent-redirect`]: '/p' });
    expect(policy).toEqual({ redirect: { kind: 'redirect', code: 302, path: '/t', stripQuery: true } });
    expect(codes).toEqual(['XG_ROUTING_IGNORED']);
  });

  it.each([
    ['ssl-redirect not a bool', { [`${N}ssl-redirect`]: 'on' }],
    ['javascript: URL', { [`${N}permanent-redirect`]: 'javascript:alert(1)' }],
    ['ftp URL', { [`${N}permanent-redirect`]: 'ftp://a.example.com/' }],
    ['URL with user info', { [`${N}permanent-redirect`]: 'https://user@a.example.com/' }],
    ['URL with a fragment', { [`${N}permanent-redirect`]: 'https://a.example.com/#x' }],
    ['URL with a space', { [`${N}permanent-redirect`]: 'https://a.example.com/a b' }],
    ['URL with a quote', { [`${N}permanent-redirect`]: 'https://a.example.com/"' }],
    ['URL with a newline', { [`${N}permanent-redirect`]: 'https://a.example.com/\nSet-Cookie: x' }],
    ['protocol-relative URL', { [`${N}permanent-redirect`]: '//evil.example.com/' }],
    ['code 404', { [`${N}permanent-redirect`]: '/x', [`${N}permanent-redirect-code`]: '404' }],
    ['code 300 (Envoy cannot send it)', { [`${N}permanent-redirect`]: '/x', [`${N}permanent-redirect-code`]: '300' }],
    ['temporal code not a number', { [`${N}temporal-redirect`]: '/x', [`${N}temporal-redirect-code`]: 'abc' }],
    ['app-root without slash', { [`${N}app-root`]: 'app' }],
    ['app-root "/"', { [`${N}app-root`]: '/' }],
    ['app-root absolute URL', { [`${N}app-root`]: 'https://a.example.com/' }],
  ])('rejects %s', (_, ann) => {
    expect(run(redirectFamily, ann).codes).toContain('XG_ANNOTATION_INVALID');
  });
});

describe('destination family', () => {
  it.each([
    ['weights and ports', '60% web.default.svc.cluster.local:80\n40% api.default.svc.cluster.local:9000', [{ cluster: 'default/web/80', weight: 60 }, { cluster: 'default/api/9000', weight: 40 }]],
    ['one line without weight is 100 %', 'web.default.svc.cluster.local', [{ cluster: 'default/web/80', weight: 100 }]],
    ['short form .svc, blank lines, CRLF', '\r\n 50% web.default.svc:80 \r\n\r\n50% api.default.svc:80\n', [{ cluster: 'default/web/80', weight: 50 }, { cluster: 'default/api/80', weight: 50 }]],
    ['a 0 % line is validated but not routed to', '100% web.default.svc.cluster.local\n0% api.default.svc.cluster.local:80', [{ cluster: 'default/web/80', weight: 100 }]],
  ])('%s', (_, value, want) => {
    const { policy, codes, used } = run(destinationFamily, { [`${H}destination`]: value });
    expect(codes).toEqual([]);
    expect(policy).toEqual({ destination: want });
    expect(used).toEqual(want.map((w) => w.cluster));
  });

  it.each([
    ['weights adding up to 70', '50% web.default.svc.cluster.local:80\n20% api.default.svc.cluster.local:80', 'add up to 70'],
    ['weights adding up to 110', '60% web.default.svc.cluster.local:80\n50% api.default.svc.cluster.local:80', 'add up to 110'],
    ['a weight over 100', '101% web.default.svc.cluster.local:80', 'at most 100'],
    ['another namespace', '100% web.kube-system.svc.cluster.local:80', 'another namespace'],
    ['unknown Service', '100% nope.default.svc.cluster.local:80', 'does not exist'],
    ['unknown port', '100% web.default.svc.cluster.local:81', 'has no port 81'],
    ['no port and several Service ports', '100% api.default.svc.cluster.local', 'exactly one'],
    ['a subset', '100% web.default.svc.cluster.local:80 v1', 'subsets'],
    ['not a Service host', '100% web.example.com:80', '<service>.<namespace>'],
    ['a fraction', '50.5% web.default.svc.cluster.local:80', 'is not'],
    ['empty', '  \n ', 'names no Service'],
    ['twice the same Service', '50% web.default.svc.cluster.local:80\n50% web.default.svc:80', 'twice'],
  ])('rejects %s: the Ingress keeps its backends, no cluster added', (_, value, text) => {
    const { policy, codes, messages, used } = run(destinationFamily, { [`${H}destination`]: value });
    expect(policy).toBeUndefined();
    expect(codes).toEqual(['XG_ROUTING_DESTINATION_INVALID']);
    expect(messages[0]).toContain(text);
    expect(used).toEqual([]);
  });

  it('is not read under the nginx prefix', () => {
    expect(run(destinationFamily, { [`${N}destination`]: '100% web.default.svc:80' }).codes).toEqual(['XG_ANNOTATION_UNKNOWN']);
  });

  it('parses lines without resolving them', () => {
    expect(parseDestination('30% a.ns.svc:8080\n70% b.ns.svc.cluster.local')).toEqual({ ok: true, lines: [{ weight: 30, service: 'a', namespace: 'ns', port: 8080 }, { weight: 70, service: 'b', namespace: 'ns' }] });
  });
});

describe('grammars', () => {
  it.each([
    ['a.example.com', { host: 'a.example.com' }],
    ['a.example.com:443', { host: 'a.example.com', port: 443 }],
    ['10.0.0.1:80', { host: '10.0.0.1', port: 80 }],
    ['[2001:db8::1]', { host: '[2001:db8::1]' }],
    ['localhost', { host: 'localhost' }],
    ['a_b.example.com', undefined],
    ['a.example.com:99999', undefined],
    ['300.1.1.1', undefined],
    ['[zz::1]', undefined],
    ['-a.example.com', undefined],
    ['', undefined],
  ])('host %j', (s, want) => expect(parseHostPort(s)).toEqual(want));

  it.each([
    ['https://a.example.com', { scheme: 'https', host: 'a.example.com', path: '/' }],
    ['https://a.example.com?x=1', { scheme: 'https', host: 'a.example.com', path: '/?x=1' }],
    ['/p?q=%20', { path: '/p?q=%20' }],
    ['/p?q=%zz', undefined],
    ['mailto:a@b', undefined],
  ])('redirect URL %j', (s, want) => expect(parseRedirectUrl(s)).toEqual(want));

  it('checks regexes with RE2 semantics (no backreferences or lookaround) and Envoy\'s size limit', () => {
    expect(checkRegex('/a/([0-9]+)')).toEqual({ ok: true, groups: 1 });
    expect(checkRegex('(a)\\1').ok).toBe(false);
    expect(checkRegex('(?=a)').ok).toBe(false);
    expect(checkRegex('a{1000}').ok).toBe(false);
  });
});

describe('enable-rewrite (Higress Console)', () => {
  it('is known and has no effect', () => {
    expect(run(pathFamily, { [`${H}enable-rewrite`]: 'true' })).toMatchObject({ policy: undefined, codes: [] });
    expect(run(pathFamily, { [`${H}enable-rewrite`]: 'nope' }).codes).toEqual(['XG_ANNOTATION_INVALID']);
  });
});

describe('prefix conflicts are reported once', () => {
  it.each([
    [redirectFamily, { [`${N}temporal-redirect`]: '/t', [`${N}permanent-redirect`]: '/p', [`${H}permanent-redirect`]: '/q' }],
    [destinationFamily, { [`${H}destination`]: '100% web.default.svc:80', [`mse.ingress.kubernetes.io/destination`]: '100% api.default.svc:80' }],
    [pathFamily, { [`${N}rewrite-target`]: '/a', [`${H}rewrite-target`]: '/b' }],
  ] as [AnnotationFamily, Record<string, string>][])('%#', (family, ann) => {
    expect(run(family, ann).codes.filter((c) => c === 'XG_ANNOTATION_CONFLICT')).toHaveLength(1);
  });
});
