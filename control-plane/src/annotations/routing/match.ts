// Higress custom match conditions (H/M/X; docs/routing.md): every route of the Ingress
// matches only requests that also satisfy them.
//
//   {exact|prefix|regex}-match-header-<name>   header <name> equals / starts with / fully
//                                             matches (RE2) the value
//   {exact|prefix|regex}-match-query-<name>    the same for query parameter <name>
//   match-method                              HTTP methods, separated by spaces or commas
//
// A bad condition rejects the Ingress's conditions as a whole (XG_ANNOTATION_INVALID) and
// its routes are not served: serving them without the condition would take traffic that
// another route is meant to get.
import type { AnnotationFamily } from '../family.js';
import type { HeaderMatch } from '../../model/ir.js';
import { HEADER_VALUE, HIGRESS, QUERY_PART, checkRegex, headerNameProblem } from './grammar.js';

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** Extra match conditions for every route of the Ingress (headers include `:method`). */
    readonly customMatch?: { readonly headers: readonly HeaderMatch[]; readonly queryParams: readonly HeaderMatch[] };
    /** The custom match annotations could not be used: the Ingress's routes are not served. */
    readonly customMatchInvalid?: true;
  }
}

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
const KINDS = ['exact', 'prefix', 'regex'] as const;

export const matchFamily: AnnotationFamily = {
  name: 'routing-match',
  parse(r) {
    const headers: HeaderMatch[] = [];
    const queryParams: HeaderMatch[] = [];
    let bad = false;
    for (const kind of KINDS) {
      for (const what of ['header', 'query'] as const) {
        const start = `${kind}-match-${what}-`;
        for (const key of r.keysStartingWith(start, HIGRESS)) {
          const v = r.get(key, HIGRESS);
          if (!v) continue;
          const rawName = key.slice(start.length);
          const name = what === 'header' ? rawName.toLowerCase() : rawName;
          const nameProblem = what === 'header' ? headerNameProblem(name) : QUERY_PART.test(name) ? undefined : 'is not a query parameter name (URL query characters without "&", "=", "+" or "#")';
          if (nameProblem) {
            r.invalid(v, `the ${what} name ${JSON.stringify(rawName)} ${nameProblem}; the Ingress's routes are not served`);
            bad = true;
            continue;
          }
          const value = v.value;
          let match: HeaderMatch['match'] | undefined;
          if (kind === 'regex') {
            const c = checkRegex(value);
            if (!c.ok) r.invalid(v, `${c.why}; the Ingress's routes are not served`);
            else match = { type: 'Regex', value };
          } else if (what === 'header' ? HEADER_VALUE.test(value) : QUERY_PART.test(value)) {
            match = { type: kind === 'exact' ? 'Exact' : 'Prefix', value };
          } else {
            const want = what === 'header' ? 'visible ASCII (spaces inside only), at most 1024 characters' : 'URL query characters without "&", "=", "+" or "#", at most 1024';
            r.invalid(v, `must be ${want}; the Ingress's routes are not served`);
          }
          if (!match) {
            bad = true;
            continue;
          }
          const list = what === 'header' ? headers : queryParams;
          if (list.some((m) => m.name === name)) {
            r.invalid(v, `a second condition on ${what} ${JSON.stringify(name)}; use one of exact, prefix or regex; the Ingress's routes are not served`);
            bad = true;
            continue;
          }
          list.push({ name, match });
        }
      }
    }
    const mv = r.get('match-method', HIGRESS);
    if (mv) {
      const methods: string[] = [];
      let ok = true;
      for (const m of mv.value.split(/[\s,]+/).filter(Boolean)) {
        const up = m.toUpperCase();
        if (!(METHODS as readonly string[]).includes(up)) ok = false;
        else if (!methods.includes(up)) methods.push(up);
      }
      if (!ok || methods.length === 0) {
        r.invalid(mv, `must list HTTP methods (${METHODS.join(' ')}) separated by spaces or commas; the Ingress's routes are not served`);
        bad = true;
      } else {
        methods.sort();
        headers.push({ name: ':method', match: methods.length === 1 ? { type: 'Exact', value: methods[0]! } : { type: 'Regex', value: methods.join('|') } });
      }
    }
    if (bad) return { customMatchInvalid: true };
    if (!headers.length && !queryParams.length) return undefined;
    const byName = (a: HeaderMatch, b: HeaderMatch) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    return { customMatch: { headers: headers.sort(byName), queryParams: queryParams.sort(byName) } };
  },
};
