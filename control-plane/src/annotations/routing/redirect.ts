// Redirect keys (N/H/M/X; docs/routing.md):
//
//   ssl-redirect            bool, default true: on a host served over HTTPS, plain HTTP
//                           requests get 308 to https:// (ingress-nginx's default)
//   force-ssl-redirect      bool: 308 to https:// even when xgate serves no TLS for the host
//                           (TLS ended in front of it)
//   permanent-redirect      absolute http(s) URL or path: every request gets a redirect there
//   permanent-redirect-code 301 (default), 302, 303, 307 or 308
//   temporal-redirect       the same with 302; wins over permanent-redirect (as in both)
//   temporal-redirect-code  302 (default), 301, 303, 307 or 308 (ingress-nginx ≥ 1.12)
//   app-root                path: a request for exactly "/" gets 302 to it
import type { AnnotationFamily } from '../family.js';
import type { RedirectAction } from '../../model/ir.js';
import type { AnnotationValue } from '../reader.js';
import { ALL, field, isPathAndQuery, parseRedirectUrl, readBool, shown } from './grammar.js';

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** permanent-redirect / temporal-redirect: every route of the Ingress answers this redirect. */
    readonly redirect?: RedirectAction;
    /** ssl-redirect as set on the Ingress (absent: the default, true). */
    readonly sslRedirect?: boolean;
    /** force-ssl-redirect. */
    readonly forceSslRedirect?: boolean;
    /** app-root: "/" redirects (302) here. */
    readonly appRoot?: string;
  }
}

/** Envoy's RedirectResponseCode values. */
export const REDIRECT_CODES = [301, 302, 303, 307, 308] as const;
export type RedirectCode = (typeof REDIRECT_CODES)[number];

export const redirectFamily: AnnotationFamily = {
  name: 'routing-redirect',
  parse(r) {
    const out: { redirect?: RedirectAction; sslRedirect?: boolean; forceSslRedirect?: boolean; appRoot?: string } = {};
    const ssl = readBool(r, 'ssl-redirect', ALL);
    if (ssl) out.sslRedirect = ssl.value;
    const force = readBool(r, 'force-ssl-redirect', ALL);
    if (force?.value) out.forceSslRedirect = true;

    const code = (key: string, dflt: RedirectCode): RedirectCode => {
      const v = r.get(key, ALL);
      if (!v) return dflt;
      const n = Number(v.value.trim());
      if (!/^\d{3}$/.test(v.value.trim()) || !(REDIRECT_CODES as readonly number[]).includes(n)) {
        r.invalid(v, `must be one of ${REDIRECT_CODES.join(', ')} (the redirect codes Envoy can send); ${dflt} is used`);
        return dflt;
      }
      return n as RedirectCode;
    };
    const target = (key: string, c: RedirectCode): { action: RedirectAction; from: AnnotationValue } | undefined => {
      const v = r.get(key, ALL);
      if (!v) return undefined;
      const u = parseRedirectUrl(v.value.trim());
      if (!u) {
        r.invalid(v, 'must be an absolute http:// or https:// URL (no user info or fragment) or a path starting with "/", without spaces, quotes or control characters; no redirect is made');
        return undefined;
      }
      const action: RedirectAction = {
        kind: 'redirect',
        code: c,
        ...(u.scheme ? { scheme: u.scheme } : {}),
        ...(u.host ? { host: u.host } : {}),
        ...(u.port !== undefined ? { port: u.port } : {}),
        path: u.path,
        stripQuery: true,
      };
      return { action, from: v };
    };
    const temporal = target('temporal-redirect', code('temporal-redirect-code', 302));
    const permanent = target('permanent-redirect', code('permanent-redirect-code', 301));
    if (temporal && permanent) {
      const pv = permanent.from;
      r.sink.warning('XG_ROUTING_IGNORED', r.ref, `${pv.annotation} is ignored because temporal-redirect is set (temporal wins, as in ingress-nginx and Higress)`, field(pv));
    }
    const redirect = (temporal ?? permanent)?.action;
    if (redirect) out.redirect = redirect;

    const root = r.get('app-root', ALL);
    if (root) {
      const v = root.value.trim();
      if (!isPathAndQuery(v) || v.startsWith('//')) r.invalid(root, `must be a path starting with "/" (an optional query allowed), not ${shown(root.value)}; "/" is not redirected`);
      else if (v === '/') r.invalid(root, 'is "/" itself, which would redirect to itself; "/" is not redirected');
      else if (out.redirect) r.sink.warning('XG_ROUTING_IGNORED', r.ref, `${root.annotation} is ignored: every request of this Ingress is redirected (${out.redirect.code}) anyway`, field(root));
      else out.appRoot = v;
    }
    return Object.keys(out).length ? out : undefined;
  },
};
