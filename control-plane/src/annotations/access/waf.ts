// The WAF (wasm-plugins/waf) per route:
//   X `waf`: `block` | `detect` | `off`
//   N `enable-modsecurity`, `enable-owasp-core-rules`: booleans (ingress-nginx). Either one
//     true enables the WAF in `detect` mode, because ingress-nginx runs ModSecurity
//     "Detection-Only" unless a snippet says `SecRuleEngine On` (and xgate refuses
//     snippets): a migrated Ingress behaves as before. Add `xgate.io/waf: block` to block.
// X `waf` wins over the N keys. An unknown mode or a value that is not a boolean makes the
// route answer 403 (it asked for protection we cannot give as asked).
import type { AnnotationFamily } from '../family.js';
import type { AnnotationValue } from '../reader.js';

export type WafMode = 'block' | 'detect';

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** The WAF mode of the route; absent: no WAF. */
    readonly waf?: WafMode;
  }
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function show(v: AnnotationValue): string {
  return JSON.stringify(v.value.length > 100 ? `${v.value.slice(0, 100)}…` : v.value);
}

export const wafFamily: AnnotationFamily = {
  name: 'waf',
  parse(r) {
    const x = r.get('waf', ['X']);
    const modsec = r.get('enable-modsecurity', ['N']);
    const owasp = r.get('enable-owasp-core-rules', ['N']);
    const fail = (v: AnnotationValue, why: string) => {
      r.sink.error('XG_WAF_MODE_INVALID', r.ref, `${v.annotation}=${show(v)}: ${why}; the routes of this Ingress answer 403`, `metadata.annotations["${v.annotation}"]`);
      return { failClosed: { status: 403, reason: `invalid WAF setting in ${v.annotation}` } };
    };
    if (x) {
      const mode = x.value.trim();
      if (mode !== 'block' && mode !== 'detect' && mode !== 'off') return fail(x, 'must be block, detect or off');
      for (const n of [modsec, owasp]) {
        if (n) r.sink.warning('XG_WAF_SHADOWED', r.ref, `${n.annotation} is ignored: ${x.annotation}=${show(x)} decides`, `metadata.annotations["${n.annotation}"]`);
      }
      return mode === 'off' ? undefined : { waf: mode };
    }
    let on = false;
    for (const n of [modsec, owasp]) {
      if (!n) continue;
      const b = n.value.trim();
      if (TRUE.has(b)) on = true;
      else if (!FALSE.has(b)) return fail(n, 'must be true or false');
    }
    return on ? { waf: 'detect' } : undefined;
  },
};
