// External auth (ingress-nginx `auth-url` and friends) → Envoy ext_authz with an HTTP
// service, per route. Every value is checked against a strict grammar; any unusable
// value makes the route fail closed (403), never open. See docs/auth-external-oidc.md.
import type { AnnotationFamily } from '../family.js';
import type { AnnotationReader, AnnotationValue } from '../reader.js';
import type { Prefix } from '../prefixes.js';
import { checkUrl, headerList, urlString } from './url.js';

export interface ExtAuthSpec {
  /** The auth-url as validated (default port dropped). */
  readonly url: string;
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** The auth-url's path without its trailing '/' ('' for '/'): Envoy's path_prefix. */
  readonly pathPrefix: string;
  readonly timeoutMs: number;
  /** Lowercase names of the request headers sent to the auth service; undefined = all (ingress-nginx). */
  readonly requestHeaders?: readonly string[];
  /** Lowercase names of the auth response's headers copied into the upstream request. */
  readonly responseHeaders: readonly string[];
  /** X-Auth-Request-Redirect sent to the auth service; undefined = the original request URI. */
  readonly requestRedirect?: string;
  /** On a 401 from the auth service: 302 to this URL with `<param>=<original URL>`. */
  readonly signin?: { readonly url: string; readonly redirectParam: string };
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** External auth (ext_authz HTTP service) of every route of the Ingress. */
    readonly extAuth?: ExtAuthSpec;
  }
}

export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
export const MAX_AUTH_TIMEOUT_MS = 60_000;
const NGINX: readonly Prefix[] = ['N', 'H', 'M', 'X'];
const OURS: readonly Prefix[] = ['X'];

/** `5s`, `500ms`, `1.5s`, or a bare number of seconds. */
export function parseTimeoutMs(v: string): number | undefined {
  const m = /^(\d{1,6}(?:\.\d{1,3})?)(ms|s)?$/.exec(v.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : n * 1000;
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_AUTH_TIMEOUT_MS) return undefined;
  return ms;
}

/** Value of X-Auth-Request-Redirect: a URL or a path; no `%` (Envoy formats header values). */
const REDIRECT_VALUE = /^[A-Za-z0-9\-._~!&()*+,=:@/?]{1,2048}$/;
const PARAM = /^[A-Za-z0-9_-]{1,64}$/;

export const extAuthFamily: AnnotationFamily = {
  name: 'auth-external',
  parse(r, ctx) {
    const url = r.get('auth-url', NGINX);
    const snippet = r.get('auth-snippet', NGINX);
    const method = r.get('auth-method', NGINX);
    const respHeaders = r.get('auth-response-headers', NGINX);
    const reqRedirect = r.get('auth-request-redirect', NGINX);
    const signin = r.get('auth-signin', NGINX);
    const signinParam = r.get('auth-signin-redirect-param', NGINX);
    const timeout = r.get('auth-timeout', OURS);
    const reqHeaders = r.get('auth-request-headers', OURS);

    const fail = (v: AnnotationValue, why: string): { failClosed: { status: number; reason: string } } => {
      r.sink.error('XG_AUTH_URL_INVALID', ctx.ref, `${v.annotation}=${show(v.value)}: ${why}; every route of this Ingress answers 403`, field(v));
      return { failClosed: { status: 403, reason: 'external auth is misconfigured' } };
    };

    if (snippet) {
      r.sink.error('XG_AUTH_SNIPPET', ctx.ref, `${snippet.annotation} is never supported (snippets are configuration text); every route of this Ingress answers 403`, field(snippet));
      return { failClosed: { status: 403, reason: 'auth-snippet is not supported' } };
    }
    if (!url) {
      for (const v of [method, respHeaders, reqRedirect, signin, signinParam, timeout, reqHeaders]) {
        if (v) r.sink.warning('XG_AUTH_NOT_APPLIED', ctx.ref, `${v.annotation} has no effect without auth-url`, field(v));
      }
      return undefined;
    }
    const u = checkUrl(url.value);
    if (!u.ok) return fail(url, `auth-url ${u.why}`);
    if (u.value.query) return fail(url, 'a query string in auth-url is not supported (Envoy appends the request path to the auth-url path)');

    let timeoutMs = DEFAULT_AUTH_TIMEOUT_MS;
    if (timeout) {
      const t = parseTimeoutMs(timeout.value);
      if (t === undefined) return fail(timeout, `must be a duration such as 5s or 500ms, at most ${MAX_AUTH_TIMEOUT_MS / 1000}s`);
      timeoutMs = t;
    }
    let requestHeaders: string[] | undefined;
    if (reqHeaders) {
      const l = headerList(reqHeaders.value);
      if (!l.ok) return fail(reqHeaders, `${show(l.bad)} is not a header name`);
      requestHeaders = l.names;
    }
    let responseHeaders: string[] = [];
    if (respHeaders) {
      const l = headerList(respHeaders.value);
      if (!l.ok) return fail(respHeaders, `${show(l.bad)} is not a header name`);
      responseHeaders = l.names;
    }
    let requestRedirect: string | undefined;
    if (reqRedirect) {
      const v = reqRedirect.value.trim();
      if (!REDIRECT_VALUE.test(v)) return fail(reqRedirect, 'must be a URL or path of RFC 3986 characters, without %, $ or spaces');
      requestRedirect = v;
    }
    let signinSpec: ExtAuthSpec['signin'];
    if (signin) {
      const s = checkUrl(signin.value);
      if (!s.ok) return fail(signin, `auth-signin ${s.why}`);
      if (signin.value.includes('%')) return fail(signin, 'must not hold % (the redirect is built by Envoy\'s formatter)');
      let redirectParam = 'rd';
      if (signinParam) {
        if (!PARAM.test(signinParam.value.trim())) return fail(signinParam, 'must be a query parameter name of letters, digits, _ and -');
        redirectParam = signinParam.value.trim();
      }
      signinSpec = { url: urlString(s.value), redirectParam };
    } else if (signinParam) {
      r.sink.warning('XG_AUTH_NOT_APPLIED', ctx.ref, `${signinParam.annotation} has no effect without auth-signin`, field(signinParam));
    }
    if (method) {
      r.sink.warning('XG_AUTH_NOT_APPLIED', ctx.ref, `${method.annotation}=${show(method.value)}: Envoy calls the auth service with the original request's method (sent also as X-Original-Method); the method cannot be changed`, field(method));
    }
    const path = u.value.path.replace(/\/+$/, '');
    return {
      extAuth: {
        url: urlString({ ...u.value, path: path || '/' }),
        scheme: u.value.scheme,
        host: u.value.host,
        port: u.value.port,
        pathPrefix: path,
        timeoutMs,
        ...(requestHeaders ? { requestHeaders } : {}),
        responseHeaders,
        ...(requestRedirect ? { requestRedirect } : {}),
        ...(signinSpec ? { signin: signinSpec } : {}),
      },
    };
  },
};

function show(v: string): string {
  return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
}

function field(v: AnnotationValue): string {
  return `metadata.annotations["${v.annotation}"]`;
}

export type { AnnotationReader };
