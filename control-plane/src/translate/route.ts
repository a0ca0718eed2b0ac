// VirtualHost → RouteConfiguration entries.
import type { HeaderMatch, PathMatch, RedirectAction, Route, RouteAction, VirtualHost } from '../model/ir.js';
import { envoyPathRegex } from '../model/routing.js';
import type { JsonObject } from '../xds/encode.js';
import { hoistFilterConfigs } from './hoist-filter-configs.js';
import { applyHostPolicies, applyRoutePolicies } from './policies.js';

export function translateRouteConfiguration(name: string, vhosts: readonly VirtualHost[]): JsonObject {
  return {
    name,
    virtual_hosts: vhosts.map(translateVirtualHost),
    // Host matching ignores the port, so "foo.example.com:8080" finds the foo.example.com vhost.
    ignore_port_in_host_matching: true,
  };
}

/** A new VirtualHost (translate.ts memoises them per host: its Reuse gives the last one for the same model object or content). */
export function translateVirtualHost(vh: VirtualHost): JsonObject {
  const authority = vh.host.startsWith('*.') ? oneLabelWildcard(vh.host) : undefined;
  const out: JsonObject = {
    name: vh.host,
    domains: [vh.host],
    routes: vh.routes.map((r) => translateRoute(r, authority)),
  };
  applyHostPolicies(vh.policy, out);
  hoistFilterConfigs(out);
  return out;
}

/** Envoy's "*.example.com" matches any depth; Ingress's matches one label: check :authority too. */
function oneLabelWildcard(host: string): JsonObject {
  const suffix = host.slice(1).replace(/[.]/g, '\\.');
  return { name: ':authority', string_match: { safe_regex: { regex: `[^.:]+${suffix}(:[0-9]+)?` } } };
}

export function translateRoute(r: Route, authority?: JsonObject): JsonObject {
  // pathMatcher gives a new object: the match is built onto it (no copies, no empty lists).
  const match = pathMatcher(r.match.path);
  const hs = r.match.headers;
  if (authority || hs?.length) {
    const headers: JsonObject[] = authority ? [authority] : [];
    if (hs) for (const h of hs) headers.push(headerMatcher(h));
    match['headers'] = headers;
  }
  if (r.match.queryParams?.length) match['query_parameters'] = r.match.queryParams.map(queryMatcher);
  const out: JsonObject = { name: r.name, match };
  const a = r.action;
  if (r.policy === undefined && a.kind === 'forward' && a.backends.length === 1 && (a.totalWeight === undefined || a.backends[0]!.weight === a.totalWeight)) {
    // Nothing will add to its RouteAction: the routes to one cluster share it (see forwardTo).
    out['route'] = forwardTo(a.backends[0]!.cluster);
    return out;
  }
  setAction(out, r.action);
  applyRoutePolicies(r.policy, out);
  return out;
}

/**
 * `{ cluster }`, one object per cluster name while a translation lasts (startRouteBatch),
 * for routes without a policy: the policy translators add to the RouteAction of the
 * route they are given, and without a policy none runs.
 */
let forwards = new Map<string, JsonObject>();

function forwardTo(cluster: string): JsonObject {
  let out = forwards.get(cluster);
  if (!out) {
    out = { cluster };
    forwards.set(cluster, out);
  }
  return out;
}

/** Starts a translation: the shared RouteActions of the last one are let go. */
export function startRouteBatch(): void {
  if (forwards.size) forwards = new Map();
}

/** A new RouteMatch object with the path matcher (the caller adds to it). */
function pathMatcher(p: PathMatch): JsonObject {
  let m: JsonObject;
  switch (p.type) {
    case 'Exact':
      m = { path: p.value };
      break;
    case 'Prefix':
      if (p.value === '/') return { prefix: '/' };
      m = { path_separated_prefix: p.value };
      break;
    case 'StringPrefix':
      if (p.value === '/') return { prefix: '/' };
      m = { prefix: p.value };
      break;
    case 'Regex':
      return { safe_regex: { regex: envoyPathRegex(p) } };
  }
  // case_sensitive applies to path, prefix and path_separated_prefix; a regex carries (?i).
  if (p.ignoreCase) m['case_sensitive'] = false;
  return m;
}

function stringMatch(m: HeaderMatch['match']): JsonObject {
  switch (m.type) {
    case 'Exact':
      return { string_match: { exact: m.value } };
    case 'Prefix':
      return { string_match: { prefix: m.value } };
    case 'Regex':
      return { string_match: { safe_regex: { regex: m.value } } };
    case 'Present':
      return { present_match: true };
  }
}

function headerMatcher(h: HeaderMatch): JsonObject {
  return { name: h.name, ...stringMatch(h.match), ...(h.invert ? { invert_match: true } : {}) };
}

function queryMatcher(q: HeaderMatch): JsonObject {
  return { name: q.name, ...stringMatch(q.match) };
}

/** Sets the route's action field (`direct_response`, `redirect` or `route`). */
function setAction(out: JsonObject, a: RouteAction): void {
  if (a.kind === 'direct') {
    out['direct_response'] = { status: a.status, ...(a.body ? { body: { inline_string: a.body } } : {}) };
  } else if (a.kind === 'redirect') {
    out['redirect'] = redirect(a);
  } else if (a.backends.length === 1 && (a.totalWeight === undefined || a.backends[0]!.weight === a.totalWeight)) {
    out['route'] = { cluster: a.backends[0]!.cluster };
  } else {
    out['route'] = { weighted_clusters: { clusters: a.backends.map((b) => ({ name: b.cluster, weight: b.weight })) } };
  }
}

const RESPONSE_CODES: Record<RedirectAction['code'], string> = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

function redirect(a: RedirectAction): JsonObject {
  return {
    ...(a.scheme ? { scheme_redirect: a.scheme } : {}),
    ...(a.host ? { host_redirect: a.host } : {}),
    ...(a.port !== undefined ? { port_redirect: a.port } : {}),
    ...(a.path !== undefined ? { path_redirect: a.path } : {}),
    response_code: RESPONSE_CODES[a.code],
    ...(a.stripQuery ? { strip_query: true } : {}),
  };
}

const proxylessMemo = new WeakMap<JsonObject, JsonObject>();

/**
 * The gateway's route configuration as proxyless gRPC clients (the "grpc" node group) can
 * take it. grpc-js-xds rejects a whole RouteConfiguration when one route's action is not
 * `route` (redirects, direct responses) or its path matcher is `path_separated_prefix`
 * (it knows prefix, path and safe_regex). So: non-forwarding routes are left out (a gRPC
 * client has no x-forwarded-proto, never follows redirects, and fails an unmatched call
 * as UNAVAILABLE as it would a direct response), and an element-wise prefix `/p` becomes
 * the two routes it means: path `/p` and prefix `/p/`. Memoised per virtual host object.
 */
export function proxylessRouteConfiguration(config: JsonObject): JsonObject {
  const vhosts = (config['virtual_hosts'] as JsonObject[]).map((vh) => {
    let out = proxylessMemo.get(vh);
    if (!out) {
      const routes: JsonObject[] = [];
      for (const r of vh['routes'] as JsonObject[]) {
        if (!r['route']) continue;
        const m = r['match'] as JsonObject;
        const psp = m['path_separated_prefix'];
        if (typeof psp !== 'string') {
          routes.push(r);
          continue;
        }
        const { path_separated_prefix: _, ...rest } = m;
        routes.push({ ...r, match: { path: psp, ...rest } });
        routes.push({ ...r, name: `${String(r['name'])}#/`, match: { prefix: `${psp}/`, ...rest } });
      }
      const unchanged = routes.length === (vh['routes'] as JsonObject[]).length && routes.every((r, i) => r === (vh['routes'] as JsonObject[])[i]);
      // An untouched virtual host is the same object, so its encoded bytes are shared with Envoy's.
      out = unchanged ? vh : { ...vh, routes };
      proxylessMemo.set(vh, out);
    }
    return out;
  });
  return { ...config, virtual_hosts: vhosts };
}
