// translate/hoist-filter-configs.ts: which per-filter configs move up to the virtual
// host, what the routes keep, and that its list of filters off by default matches the
// chains translation really builds (every golden case's listeners).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { hoistFilterConfigs, KEEP_DISABLED, offByDefault, setNoOpChainFilters } from '../../control-plane/src/translate/hoist-filter-configs.js';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';

const AUTH = 'envoy.filters.http.basic_auth'; // off by default
const RBAC = 'envoy.filters.http.rbac'; // on in every chain
const cfg = (tag: string): JsonObject => ({ '@type': 'type.googleapis.com/envoy.config.route.v3.FilterConfig', config: { '@type': tag }, is_optional: true });
const route = (name: string, tpfc?: JsonObject): JsonObject => ({ name, match: { prefix: `/${name}` }, route: { cluster: 'c' }, ...(tpfc ? { typed_per_filter_config: tpfc } : {}) });
const vhost = (routes: JsonObject[], tpfc?: JsonObject): JsonObject => ({ name: 'h', domains: ['h'], routes, ...(tpfc ? { typed_per_filter_config: tpfc } : {}) });
/** What JSON (and so the encoder and YAML) sees. */
const json = (x: unknown) => JSON.parse(JSON.stringify(x)) as JsonObject;

describe('hoistFilterConfigs', () => {
  it('moves a config every route shares up, and leaves the routes without it', () => {
    const a = cfg('A');
    const vh = vhost([route('x', { [RBAC]: a }), route('y', { [RBAC]: a })]);
    hoistFilterConfigs(vh);
    expect(json(vh)).toEqual(json(vhost([route('x'), route('y')], { [RBAC]: a })));
    expect(vh['typed_per_filter_config']).toEqual({ [RBAC]: a });
  });

  it('a filter off by default: routes without its config get FilterConfig { disabled: true }, when fewer than those that drop it', () => {
    const a = cfg('A');
    const vh = vhost([route('open'), route('x', { [AUTH]: a }), route('y', { [AUTH]: a })]);
    hoistFilterConfigs(vh);
    expect(json(vh)).toEqual(json(vhost([route('open', { [AUTH]: KEEP_DISABLED }), route('x'), route('y')], { [AUTH]: a })));
    // As many without as with: nothing gained, nothing moves.
    const even = vhost([route('o1'), route('o2'), route('x', { [AUTH]: a }), route('y', { [AUTH]: a })]);
    const before = json(even);
    hoistFilterConfigs(even);
    expect(json(even)).toEqual(before);
  });

  afterEach(() => {
    setNoOpChainFilters(new Set());
  });

  it('a filter on in the chain stays on its routes when one route has no config for it', () => {
    setNoOpChainFilters(new Set());
    const a = cfg('A');
    const vh = vhost([route('open'), route('x', { [RBAC]: a }), route('y', { [RBAC]: a }), route('z', { [RBAC]: a })]);
    const before = json(vh);
    hoistFilterConfigs(vh);
    expect(json(vh)).toEqual(before);
  });

  it('a filter whose chain config is a no-op (RBAC without gateway-wide ranges) moves as one off by default', () => {
    expect(setNoOpChainFilters(new Set([RBAC]))).toBe(true);
    expect(setNoOpChainFilters(new Set([RBAC]))).toBe(false);
    const a = cfg('A');
    const vh = vhost([route('open'), route('x', { [RBAC]: a }), route('y', { [RBAC]: a })]);
    hoistFilterConfigs(vh);
    expect(json(vh)).toEqual(json(vhost([route('open', { [RBAC]: KEEP_DISABLED }), route('x'), route('y')], { [RBAC]: a })));
  });

  it('nothing moves for a filter some route configures differently (ext_authz and header mutation merge levels)', () => {
    const vh = vhost([route('x', { [AUTH]: cfg('A') }), route('y', { [AUTH]: cfg('A') }), route('z', { [AUTH]: cfg('A') })]);
    const before = json(vh);
    // Equal content, three objects: configs are compared by object.
    hoistFilterConfigs(vh);
    expect(json(vh)).toEqual(before);
    const a = cfg('A');
    const two = vhost([route('x', { [AUTH]: a }), route('y', { [AUTH]: a }), route('z', { [AUTH]: cfg('B') })]);
    const twoBefore = json(two);
    hoistFilterConfigs(two);
    expect(json(two)).toEqual(twoBefore);
  });

  it('filters are decided one by one; a route keeps the others in their order', () => {
    const a = cfg('A');
    const r = cfg('R');
    const vh = vhost([route('x', { [RBAC]: r, other: cfg('X'), [AUTH]: a }), route('y', { [AUTH]: a, [RBAC]: r })]);
    hoistFilterConfigs(vh);
    expect(vh['typed_per_filter_config']).toEqual({ [RBAC]: r, [AUTH]: a });
    const routes = vh['routes'] as JsonObject[];
    expect(Object.keys(json(routes[0])['typed_per_filter_config'] as JsonObject)).toEqual(['other']);
    expect(json(routes[1])['typed_per_filter_config']).toBeUndefined();
  });

  it('leaves alone a filter the virtual host configures itself, a disabling config, a single route', () => {
    const a = cfg('A');
    const own = cfg('OWN');
    const vh = vhost([route('x', { [AUTH]: a }), route('y', { [AUTH]: a })], { [AUTH]: own });
    const before = json(vh);
    hoistFilterConfigs(vh);
    expect(json(vh)).toEqual(before);
    const off = vhost([route('x', { [RBAC]: KEEP_DISABLED }), route('y', { [RBAC]: KEEP_DISABLED })]);
    const offBefore = json(off);
    hoistFilterConfigs(off);
    expect(json(off)).toEqual(offBefore);
    const one = vhost([route('x', { [AUTH]: a })]);
    hoistFilterConfigs(one);
    expect(json(one)).toEqual(json(vhost([route('x', { [AUTH]: a })])));
  });

  it('keeps what the virtual host configures already and adds to it', () => {
    const a = cfg('A');
    const own = cfg('OWN');
    const vh = vhost([route('x', { [RBAC]: a }), route('y', { [RBAC]: a })], { cors: own });
    hoistFilterConfigs(vh);
    expect(Object.keys(vh['typed_per_filter_config'] as JsonObject)).toEqual(['cors', RBAC]);
  });
});

describe('offByDefault', () => {
  it('names exactly the filters that the chains of every golden case list with disabled: true', () => {
    const cases = path.join(import.meta.dirname, '..', 'golden', 'cases');
    const seen = { off: new Set<string>(), on: new Set<string>() };
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) return x.forEach(walk);
      if (!x || typeof x !== 'object') return;
      for (const [k, v] of Object.entries(x)) {
        if (k === 'http_filters' && Array.isArray(v)) {
          for (const f of v as Array<{ name: string; disabled?: boolean }>) (f.disabled === true ? seen.off : seen.on).add(f.name);
        }
        walk(v);
      }
    };
    for (const c of readdirSync(cases)) walk(parseYaml(readFileSync(path.join(cases, c, 'expected.yaml'), 'utf8')));
    // Every kind the list covers appears in some golden case.
    const kind = (n: string) => ['xgate.ext_authz.', 'xgate.oauth2.', 'xgate.waf.'].find((p) => n.startsWith(p))?.concat('*') ?? n;
    const kinds = (names: Set<string>) => new Set([...names].map(kind));
    expect([...kinds(seen.off)].sort()).toEqual(['envoy.filters.http.basic_auth', 'envoy.filters.http.jwt_authn', 'xgate.auth_signin', 'xgate.auth_strip', 'xgate.ext_authz.*', 'xgate.oauth2.*', 'xgate.waf.*']);
    for (const name of seen.off) expect(offByDefault(name), name).toBe(true);
    for (const name of seen.on) expect(offByDefault(name), name).toBe(false);
  });
});
