// The plain-HTTP listener's view of a virtual host: the routes a plain-HTTP request can
// reach there.
//
// A host that redirects to HTTPS (ssl-redirect on a TLS host, force-ssl-redirect) has
// redirect routes matching `x-forwarded-proto: http` (model/routing.ts
// withHttpsRedirects): one catch-all first when every route redirects, else one before
// each route that does, with that route's match. The virtual host is shared by the HTTPS
// route configuration (where those redirects never match) and the plain-HTTP one. On the
// plain-HTTP listener, Envoy sets x-forwarded-proto from the connection whenever it
// trusts no proxy in front (`use_remote_address` with `xff_num_trusted_hops` 0, the
// default `--trusted-hops 0`): every request there says `http`, so a redirect route
// answers every request its match covers, and the routes it covers are never reached.
// Leaving them out of the plain-HTTP route configuration changes no answer and spares
// Envoy building them: at 10,000 Ingresses of the benchmark mix (half with TLS), 41,594
// routes instead of 76,240 in the `http` configuration. With trusted proxies (a load
// balancer terminating TLS sets `x-forwarded-proto: https`), those routes are reachable
// and translate() does not use this view.
//
// What "covers" means here, on the route JSON translate/route.ts makes:
// - the catch-all (`prefix: "/"`, its headers: the wildcard host's :authority check, if
//   any, then x-forwarded-proto) covers every later route whose headers start with the
//   same ones (every path starts with "/");
// - a per-route redirect covers the route right after it when their matches are equal
//   but for the redirect's last header, x-forwarded-proto.
import type { Json, JsonObject } from '../xds/encode.js';

/**
 * The view of `vhost` for the plain-HTTP listener: `vhost` itself when every route is
 * reachable, else a new object (translate() keeps views per virtual host in a ListMemo,
 * which calls this once per new virtual host object).
 */
export function plainHttpView(vhost: JsonObject): JsonObject {
  const v = viewOf(vhost);
  if (v !== vhost) fulls.set(v, vhost);
  return v;
}

/** The virtual host a view was made from (a virtual host that is its own view: itself). */
export function fullVirtualHost(view: JsonObject): JsonObject {
  return fulls.get(view) ?? view;
}

const fulls = new WeakMap<JsonObject, JsonObject>();

function viewOf(vhost: JsonObject): JsonObject {
  const routes = vhost['routes'] as JsonObject[] | undefined;
  if (!routes) return vhost;
  let kept: JsonObject[] | undefined;
  let catchAll: readonly Json[] | undefined;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    const prev = i > 0 ? routes[i - 1]! : undefined;
    const covered = (catchAll !== undefined && startsWith(headersOf(r), catchAll)) || (prev !== undefined && redirectHeaders(prev) !== undefined && coversExactly(prev, r));
    if (covered) {
      kept ??= routes.slice(0, i);
      continue;
    }
    kept?.push(r);
    if (catchAll === undefined) {
      const own = redirectHeaders(r);
      const m = r['match'] as JsonObject;
      if (own !== undefined && m['prefix'] === '/' && onlyKeys(m, ['prefix', 'headers'])) catchAll = own;
    }
  }
  return kept ? { ...vhost, routes: kept } : vhost;
}

/** For a plain-HTTP redirect to HTTPS: its match's headers but the last (x-forwarded-proto: http). */
function redirectHeaders(r: JsonObject): readonly Json[] | undefined {
  const redirect = r['redirect'] as JsonObject | undefined;
  if (!redirect || redirect['scheme_redirect'] !== 'https' || r['route'] !== undefined || r['direct_response'] !== undefined) return undefined;
  const headers = headersOf(r);
  const last = headers.at(-1) as JsonObject | undefined;
  if (!last || last['name'] !== 'x-forwarded-proto' || last['invert_match'] === true) return undefined;
  const sm = last['string_match'] as JsonObject | undefined;
  if (!sm || sm['exact'] !== 'http' || !onlyKeys(sm, ['exact']) || !onlyKeys(last, ['name', 'string_match'])) return undefined;
  return headers.slice(0, -1);
}

/** Whether the redirect `d` (see redirectHeaders) has `r`'s match plus x-forwarded-proto: http. */
function coversExactly(d: JsonObject, r: JsonObject): boolean {
  const dm = d['match'] as JsonObject;
  const rm = r['match'] as JsonObject;
  const dh = headersOf(d);
  const rh = headersOf(r);
  if (dh.length !== rh.length + 1 || !startsWith(dh, rh)) return false;
  const { headers: _d, ...dRest } = dm;
  const { headers: _r, ...rRest } = rm;
  return sameJson(dRest, rRest);
}

function headersOf(r: JsonObject): readonly Json[] {
  return ((r['match'] as JsonObject)['headers'] as Json[] | undefined) ?? [];
}

function startsWith(list: readonly Json[], prefix: readonly Json[]): boolean {
  if (prefix.length > list.length) return false;
  for (let i = 0; i < prefix.length; i++) if (!sameJson(list[i], prefix[i])) return false;
  return true;
}

function onlyKeys(o: JsonObject, keys: readonly string[]): boolean {
  for (const k in o) if (o[k] !== undefined && !keys.includes(k)) return false;
  return true;
}

/** The same JSON (keys whose value is undefined left out; key order ignored). */
function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  for (const k in a) if (a[k] !== undefined && !sameJson(a[k], b[k])) return false;
  for (const k in b) if (b[k] !== undefined && a[k] === undefined) return false;
  return true;
}
