// H `timeout`: the whole request's timeout, in seconds (Higress). 0 disables it.
import type { AnnotationFamily } from './family.js';

declare module '../model/ir.js' {
  interface RoutePolicy {
    /** Request timeout in seconds; 0 = none. */
    readonly timeoutSeconds?: number;
  }
}

export const timeoutFamily: AnnotationFamily = {
  name: 'timeout',
  parse(r) {
    const v = r.get('timeout', ['H', 'X']);
    if (!v) return undefined;
    if (!/^\d{1,6}$/.test(v.value.trim())) {
      r.invalid(v, 'must be a whole number of seconds (0 to 999999); the route keeps Envoy\'s default timeout');
      return undefined;
    }
    return { timeoutSeconds: Number(v.value.trim()) };
  },
};
