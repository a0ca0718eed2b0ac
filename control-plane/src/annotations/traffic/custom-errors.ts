// N (and H) `default-backend` and `custom-http-errors` (ingress-nginx semantics):
//   default-backend     `[namespace/]service[:port]`, a Service in the Ingress's namespace
//                       (first port by default). It answers when the route's backend
//                       cannot be reached (Envoy's own 503: no endpoints, no Service,
//                       every connection refused) and, with custom-http-errors, for those
//                       statuses.
//   custom-http-errors  comma list of status codes (400 to 599) whose responses are
//                       replaced by the default backend's answer.
// Translated to Envoy's custom_response filter (see translate/traffic/custom-errors.ts).
import type { AnnotationFamily } from '../family.js';
import type { AnnotationReader } from '../reader.js';
import { parseServiceRef, serviceBackend } from './common.js';

export interface CustomErrorsSpec {
  /** Cluster of the default-backend Service port. */
  readonly cluster: string;
  /** Statuses replaced by the default backend's answer (sorted); may be empty. */
  readonly codes: readonly number[];
  /** Sent to the default backend as X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port. */
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  readonly port: number;
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    readonly customErrors?: CustomErrorsSpec;
  }
  interface HostPolicy {
    /** Some route of the host has custom errors: the host gets their error routes. */
    readonly customErrorRoutes?: true;
  }
}

const PREFIXES = ['N', 'H', 'X'] as const;
/** The readers (one per Ingress read) whose parse() found custom errors, for parseHost(). */
const withErrors = new WeakSet<AnnotationReader>();
const MAX_CODES = 32;

export function parseStatusCodes(value: string): number[] | string {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) return 'lists no status code';
  if (list.length > MAX_CODES) return `lists more than ${MAX_CODES} status codes`;
  const out = new Set<number>();
  for (const s of list) {
    if (!/^\d{3}$/.test(s) || Number(s) < 400 || Number(s) > 599) return `${JSON.stringify(s.slice(0, 16))} is not an error status code (400 to 599)`;
    out.add(Number(s));
  }
  return [...out].sort((a, b) => a - b);
}

export const customErrorsFamily: AnnotationFamily = {
  name: 'custom-errors',
  parse(r, ctx) {
    const codesV = r.get('custom-http-errors', [...PREFIXES]);
    const backendV = r.get('default-backend', [...PREFIXES]);
    let codes: number[] = [];
    if (codesV) {
      const p = parseStatusCodes(codesV.value);
      if (typeof p === 'string') r.invalid(codesV, `${p}; no custom error pages for these statuses`);
      else codes = p;
    }
    if (!backendV) {
      if (codesV) r.sink.warning('XG_CUSTOM_ERRORS_NO_BACKEND', r.ref, `${codesV.annotation} needs a default-backend annotation naming the Service that serves the error pages; it has no effect`, `metadata.annotations["${codesV.annotation}"]`);
      return undefined;
    }
    const field = `metadata.annotations["${backendV.annotation}"]`;
    const ref = parseServiceRef(backendV.value);
    if (!ref) {
      r.invalid(backendV, 'must be [namespace/]service[:port] (DNS labels, port by number or name); no custom error pages for the route');
      return undefined;
    }
    if (ref.namespace !== undefined && ref.namespace !== ctx.namespace) {
      r.sink.error('XG_DEFAULT_BACKEND_NAMESPACE', r.ref, `default backend ${ref.namespace}/${ref.name} is in another namespace than the Ingress (${ctx.namespace}); no custom error pages for the route`, field);
      return undefined;
    }
    const res = ctx.useBackend(serviceBackend(ref, ctx.namespace, ctx.store));
    if (!res.ok) {
      r.sink.error('XG_DEFAULT_BACKEND_SERVICE', r.ref, `${res.message}; no custom error pages for the route`, field);
      return undefined;
    }
    withErrors.add(r);
    return {
      customErrors: { cluster: res.cluster.name, codes, namespace: ctx.namespace, ingress: ctx.ref.name, service: res.cluster.service, port: res.cluster.port },
    };
  },
  parseHost(r) {
    // parse() ran first on the same reader.
    return withErrors.has(r) ? { customErrorRoutes: true } : undefined;
  },
};
