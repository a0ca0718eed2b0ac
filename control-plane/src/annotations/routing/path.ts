// Path matching and rewriting keys (ingress-nginx N, Higress H, MSE M; docs/routing.md):
//
//   use-regex          (N/H/M/X) bool: ImplementationSpecific paths are RE2 regexes matched
//                      as a prefix of the path (nginx `location ~* ^path`)
//   rewrite-target     (N/H/M/X) the path sent upstream, with $1…$9 capture groups of the
//                      path; implies use-regex (as both controllers do)
//   H full-path-regex  (H/M/X) bool: the regex must match the whole path (no implied suffix)
//   H rewrite-path     (H/M/X) replaces the matched prefix of the path (Higress); when set,
//                      rewrite-target is ignored and regex matching is not implied
//   upstream-vhost     (N/H/M/X) the Host header sent upstream: host[:port]
//   H ignore-path-case (H/M/X) bool: paths match case-insensitively
//
// Regex paths are case-insensitive when regex matching was turned on by an nginx key
// (ingress-nginx uses `~*`), case-sensitive otherwise (Higress), unless ignore-path-case.
import type { AnnotationFamily } from '../family.js';
import type { PathRewrite } from '../../model/routing.js';
import { ALL, HIGRESS, field, parseHostPort, readBool, shown } from './grammar.js';

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** ImplementationSpecific paths are RE2 regexes: over the whole path when `full`, else over its beginning. */
    readonly pathRegex?: { readonly full: boolean; readonly ignoreCase: boolean };
    /** Every path of the Ingress matches case-insensitively. */
    readonly ignorePathCase?: boolean;
    /** The path sent upstream, in nginx form ($1…$9); turned into a per-route pathRewrite by the model. */
    readonly rewriteTarget?: string;
    /** Higress prefix rewrite: the matched prefix is replaced by this; turned into a per-route pathRewrite. */
    readonly rewritePath?: string;
    /** Per route: how Envoy rewrites the path (model/routing.ts builds it from the two above). */
    readonly pathRewrite?: PathRewrite;
    /** The Host header sent upstream. */
    readonly hostRewrite?: string;
  }
}

/** rewrite-target: a path; `$` only as a group reference $1…$9; no query, no backslash. */
const TARGET = /^\/(?:[A-Za-z0-9\-._~!&'()*+,;=:@/%]|\$[1-9])*$/;
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

export const pathFamily: AnnotationFamily = {
  name: 'routing-path',
  parse(r) {
    const out: {
      pathRegex?: { full: boolean; ignoreCase: boolean };
      ignorePathCase?: boolean;
      rewriteTarget?: string;
      rewritePath?: string;
      hostRewrite?: string;
    } = {};
    const useRegex = readBool(r, 'use-regex', ALL);
    const fullPath = readBool(r, 'full-path-regex', HIGRESS);
    const ignoreCase = readBool(r, 'ignore-path-case', HIGRESS);
    const targetV = r.get('rewrite-target', ALL);
    const pathV = r.get('rewrite-path', HIGRESS);

    let targetOn: typeof targetV;
    if (pathV) {
      const v = pathV.value.trim();
      if (v.length > 1024 || !PLAIN_PATH.test(v) || /%(?![0-9A-Fa-f]{2})/.test(v)) {
        r.invalid(pathV, 'must be a path starting with "/" (URL path characters, no query, at most 1024); the path is not rewritten');
      } else out.rewritePath = v;
      if (targetV) r.sink.warning('XG_ROUTING_IGNORED', r.ref, `${targetV.annotation} is ignored because ${pathV.annotation} is set (as in Higress)`, field(targetV));
    } else if (targetV) {
      const v = targetV.value.trim();
      targetOn = targetV;
      if (v.length > 1024 || !TARGET.test(v) || /%(?![0-9A-Fa-f]{2})/.test(v)) {
        const why = /\$(?![1-9])/.test(v)
          ? 'may use "$" only in the capture group references $1 to $9 (nginx variables are not supported)'
          : 'must be a path starting with "/" (URL path characters and $1…$9, no query or backslash, at most 1024)';
        r.invalid(targetV, `${why}; the path is not rewritten`);
      } else out.rewriteTarget = v;
    }

    // Regex matching: turned on by use-regex, by rewrite-target's presence, or by full-path-regex.
    const on = (useRegex?.value ? useRegex.from : undefined) ?? targetOn ?? (fullPath?.value ? fullPath.from : undefined);
    if (on) {
      const nginx = (useRegex?.value && useRegex.from.annotation.startsWith('nginx.')) || (targetOn?.annotation.startsWith('nginx.') ?? false);
      out.pathRegex = { full: fullPath?.value === true, ignoreCase: nginx || ignoreCase?.value === true };
    }
    if (ignoreCase?.value) out.ignorePathCase = true;

    // Higress Console writes enable-rewrite next to rewrite-path / rewrite-target; the Higress
    // controller does not read it. Known (no XG_ANNOTATION_UNKNOWN), validated, no effect.
    readBool(r, 'enable-rewrite', HIGRESS);

    const vhost = r.get('upstream-vhost', ALL);
    if (vhost) {
      const hp = parseHostPort(vhost.value.trim());
      if (!hp) r.invalid(vhost, `must be host[:port] (a DNS name, an IPv4 address or a bracketed IPv6 address; no variables), not ${shown(vhost.value)}; the Host header is not rewritten`);
      else out.hostRewrite = hp.port !== undefined ? `${hp.host}:${hp.port}` : hp.host;
    }
    return Object.keys(out).length ? out : undefined;
  },
};
