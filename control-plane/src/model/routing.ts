// How the routing annotations (annotations/routing/*) shape the model's routes: regex and
// case-insensitive paths, custom match conditions, rewrites per path, redirect and split
// actions, app-root and HTTPS redirects. Pure functions called by model/build.ts.
// Semantics and their sources: docs/routing.md.
import { flat } from './flat.js';
import { RE2JS } from 're2js';
import type { Code } from '../errors.js';
import type { DiagnosticSink, ObjectRef } from '../diagnostics.js';
import type { PathMatch, RedirectAction, Route, RouteAction, RouteMatch, RoutePolicy } from './ir.js';
import { pathKey, toPathMatch } from './paths.js';
import { checkRegex, re2Quote } from '../annotations/routing/grammar.js';

export type PathRewrite =
  /** Envoy prefix_rewrite: the matched prefix (or path) is replaced by value */
  | { readonly kind: 'prefix'; readonly value: string }
  /** Envoy regex_rewrite: RE2 pattern over the path (query excluded), substitution with \1…\9 */
  | { readonly kind: 'regex'; readonly pattern: string; readonly substitution: string };

/** ssl-redirect when the Ingress does not say (ingress-nginx's default). */
export const SSL_REDIRECT_DEFAULT = true;

/** The regex Envoy is given for a Regex path (safe_regex matches the whole path). */
export function envoyPathRegex(m: Extract<PathMatch, { type: 'Regex' }>): string {
  return `${m.ignoreCase ? '(?i)' : ''}${m.prefix ? `(?:${m.value}).*` : m.value}`;
}

export type RoutePathResult =
  | { readonly ok: true; readonly match: PathMatch; readonly warning?: string }
  | { readonly ok: false; readonly code: Code; readonly message: string };

/** An Ingress path as the Ingress's routing policy reads it (use-regex, ignore-path-case). */
export function routePathMatch(path: unknown, pathType: unknown, policy: RoutePolicy | undefined): RoutePathResult {
  const type = pathType === undefined ? 'ImplementationSpecific' : pathType;
  const rx = policy?.pathRegex;
  if (rx && type === 'ImplementationSpecific' && typeof path === 'string' && path !== '') {
    if (!path.startsWith('/')) return { ok: false, code: 'XG_ROUTING_PATH_REGEX_INVALID', message: `regex path ${JSON.stringify(path.slice(0, 200))} must start with "/"; it is not served` };
    const match: PathMatch = { type: 'Regex', value: path, ...(rx.full ? {} : { prefix: true }), ...(rx.ignoreCase || policy.ignorePathCase ? { ignoreCase: true } : {}) };
    const c = checkRegex(path, envoyPathRegex(match));
    if (!c.ok) return { ok: false, code: 'XG_ROUTING_PATH_REGEX_INVALID', message: `regex path ${JSON.stringify(path.slice(0, 200))} ${c.why}; it is not served` };
    return { ok: true, match };
  }
  const pm = toPathMatch(path, pathType);
  if (!pm.ok) return { ok: false, code: 'XG_INGRESS_PATH_INVALID', message: pm.message };
  return policy?.ignorePathCase ? { ...pm, match: { ...pm.match, ignoreCase: true } } : pm;
}

/** The key an Ingress path is known by for canaries: its pathType and path as written (Prefix without trailing slashes). */
export function specPathKey(path: unknown, pathType: unknown): string | undefined {
  const type = pathType === undefined ? 'ImplementationSpecific' : pathType;
  if (typeof path !== 'string' && path !== undefined) return undefined;
  const p = path === undefined || path === '' ? (type === 'ImplementationSpecific' ? '/' : undefined) : path;
  if (p === undefined || !p.startsWith('/') || p.length > 4096 || /[\x00-\x20\x7f]/.test(p)) return undefined;
  if (type === 'Exact') return `Exact:${p}`;
  if (type === 'Prefix') return `Prefix:${p.replace(/\/+$/, '') || '/'}`;
  if (type === 'ImplementationSpecific') return `StringPrefix:${p}`;
  return undefined;
}

/** Part of a path claim key: routes with different custom match conditions do not conflict. */
export function matchKeySuffix(policy: RoutePolicy | undefined): string {
  const cm = policy?.customMatch;
  return cm ? `\u0000${JSON.stringify(cm)}` : '';
}

/** The route match: the path plus the Ingress's custom conditions. */
export function routeMatch(path: PathMatch, policy: RoutePolicy | undefined): RouteMatch {
  const cm = policy?.customMatch;
  if (!cm || (!cm.headers.length && !cm.queryParams.length)) return { path };
  return {
    path,
    ...(cm?.headers.length ? { headers: cm.headers } : {}),
    ...(cm?.queryParams.length ? { queryParams: cm.queryParams } : {}),
  };
}

/** The action the Ingress's policy imposes on every route (redirect, destination split), if any. */
export function policyAction(policy: RoutePolicy | undefined): RouteAction | undefined {
  if (policy?.redirect) return policy.redirect;
  if (policy?.destination?.length) return { kind: 'forward', backends: policy.destination };
  return undefined;
}

/**
 * The route's own policy: the Ingress's, plus the path rewrite computed for this path.
 * Returns the Ingress's object itself when there is nothing per route (shared, as before).
 */
export function routePolicy(policy: RoutePolicy | undefined, path: PathMatch, action: RouteAction, sink: DiagnosticSink, ref: ObjectRef, field: string): RoutePolicy | undefined {
  if (!policy || action.kind !== 'forward' || (policy.rewritePath === undefined && policy.rewriteTarget === undefined)) return policy;
  const rw = policy.rewritePath !== undefined ? prefixRewrite(path, policy.rewritePath) : targetRewrite(path, policy.rewriteTarget!, sink, ref, field);
  if (!rw) return policy;
  if (rw.kind === 'regex') {
    const c = checkRegex(rw.pattern);
    if (!c.ok) {
      sink.error('XG_ROUTING_REWRITE_INVALID', ref, `the rewrite of path ${JSON.stringify(path.value.slice(0, 200))} (regex ${JSON.stringify(rw.pattern.slice(0, 200))}) ${c.why}; this path is served without the rewrite`, field);
      return policy;
    }
  }
  return { ...policy, pathRewrite: rw };
}

/** Higress rewrite-path: the matched prefix is replaced (a "/" is kept between it and the rest). */
export function prefixRewrite(path: PathMatch, value: string): PathRewrite {
  const ci = path.ignoreCase ? '(?i)' : '';
  const slash = (v: string) => (v.endsWith('/') ? v : `${v}/`);
  switch (path.type) {
    case 'Exact':
      return { kind: 'prefix', value };
    case 'Prefix':
      if (path.value === '/') return { kind: 'prefix', value: slash(value) };
      // `/foo` → value and `/foo/rest` → value/rest: prefix_rewrite does that unless value ends
      // with "/" (it would give value//rest): then a regex eats the slash after the prefix.
      return value.endsWith('/') ? { kind: 'regex', pattern: `${ci}^${re2Quote(path.value)}/?`, substitution: value } : { kind: 'prefix', value };
    case 'StringPrefix':
      return { kind: 'prefix', value: path.value.endsWith('/') ? slash(value) : value };
    case 'Regex':
      return { kind: 'regex', pattern: `${ci}^(?:${path.value})${path.prefix ? '' : '$'}`, substitution: value };
  }
}

/** nginx rewrite-target: the whole path is replaced by the target, $n being the path regex's groups. */
export function targetRewrite(path: PathMatch, target: string, sink?: DiagnosticSink, ref?: ObjectRef, field?: string): PathRewrite {
  const base = path.type === 'Regex' ? path.value : re2Quote(path.value);
  let groups = 0;
  try {
    groups = RE2JS.compile(base).groupCount();
  } catch {
    groups = 0;
  }
  const missing = new Set<string>();
  const substitution = target.replace(/\$([1-9])/g, (_, d: string) => {
    if (Number(d) <= groups) return `\\${d}`;
    missing.add(`$${d}`);
    return '';
  });
  if (missing.size && sink && ref) {
    sink.warning('XG_ROUTING_REWRITE_GROUP', ref, `rewrite-target ${JSON.stringify(target)} uses ${[...missing].join(', ')} but path ${JSON.stringify(path.value.slice(0, 200))} has ${groups} capture group(s): replaced by an empty string`, field);
  }
  return { kind: 'regex', pattern: `${path.ignoreCase ? '(?i)' : ''}^(?:${base}).*`, substitution };
}

/** Whether a request for exactly "/" takes this path (where app-root applies). */
export function coversRoot(m: PathMatch): boolean {
  switch (m.type) {
    case 'Exact':
      return m.value === '/';
    case 'Prefix':
    case 'StringPrefix':
      return m.value === '/';
    case 'Regex':
      try {
        return RE2JS.compile(envoyPathRegex(m)).matches('/');
      } catch {
        return false;
      }
  }
}

/** The app-root redirect (302, the query dropped as nginx does). */
export function appRootAction(appRoot: string): RedirectAction {
  return { kind: 'redirect', code: 302, path: appRoot, stripQuery: true };
}

export const APP_ROOT_PATH: PathMatch = { type: 'Exact', value: '/' };

export function appRootKey(): string {
  return pathKey(APP_ROOT_PATH);
}

/** Plain HTTP requests: Envoy sets x-forwarded-proto from the connection (use_remote_address). */
const PLAIN_HTTP = { name: 'x-forwarded-proto', match: { type: 'Exact', value: 'http' } } as const;
const TO_HTTPS: RedirectAction = { kind: 'redirect', code: 308, scheme: 'https' };

/**
 * A virtual host's routes with the HTTPS redirects they ask for (ssl-redirect on a host
 * served over HTTPS, force-ssl-redirect anywhere): a redirect route for plain HTTP
 * requests before each such route, or one catch-all first when every route asks for it.
 * Routes that redirect anyway are left alone (nginx's `return` runs before its HTTPS
 * redirect). HTTPS requests carry x-forwarded-proto: https and never match them.
 */
export function withHttpsRedirects(routes: Route[], hostHasTls: boolean): Route[] {
  // Most hosts need none: `routes` itself is returned then (the caller's own new array).
  let wanted = 0;
  for (const r of routes) if (wantsHttpsRedirect(r, hostHasTls)) wanted++;
  if (wanted === 0) return routes;
  if (wanted === routes.length) {
    return [redirectOf(routes[0]!, '#https-redirect', { path: { type: 'StringPrefix', value: '/' } }), ...routes];
  }
  const out: Route[] = [];
  for (const r of routes) {
    if (wantsHttpsRedirect(r, hostHasTls)) out.push(redirectOf(r, flat(`${r.name}#https-redirect`), r.match));
    out.push(r);
  }
  return out;
}

function wantsHttpsRedirect(r: Route, hostHasTls: boolean): boolean {
  return r.action.kind !== 'redirect' && (r.policy?.forceSslRedirect === true || (hostHasTls && (r.policy?.sslRedirect ?? SSL_REDIRECT_DEFAULT)));
}

function redirectOf(r: Route, name: string, match: RouteMatch): Route {
  return { name, match: { ...match, headers: [...(match.headers ?? []), PLAIN_HTTP] }, action: TO_HTTPS, source: r.source };
}

/** The field of an Ingress path (spec.rules[rule].http.paths[path]), for diagnostics: made when one is reported, not kept per path. */
export function pathField(at: { readonly rule: number; readonly path: number }): string {
  return `spec.rules[${at.rule}].http.paths[${at.path}]`;
}
