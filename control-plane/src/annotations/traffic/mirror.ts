// Mirroring (Higress): `mirror-target-service` `[namespace/]name[:port]` (a Service in the
// Ingress's namespace; without a port, its first port) and `mirror-percentage` (0 to
// 100, default 100). ingress-nginx's URL form (`mirror-target`, `mirror-host`,
// `mirror-request-body`) is reported as not supported.
import type { AnnotationFamily } from '../family.js';
import { parseServiceRef, serviceBackend } from './common.js';

export interface MirrorSpec {
  /** Cluster name of the mirror Service port. */
  readonly cluster: string;
  /** Share of requests copied, in percent (up to 4 decimals); 100 = all. */
  readonly percent: number;
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    readonly mirror?: MirrorSpec;
  }
}

const PREFIXES = ['N', 'H', 'M', 'X'] as const;

export function parsePercent(value: string): number | undefined {
  const s = value.trim();
  if (!/^\d{1,3}(\.\d{1,4})?$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 0 && n <= 100 ? n : undefined;
}

export const mirrorFamily: AnnotationFamily = {
  name: 'mirror',
  parse(r, ctx) {
    for (const key of ['mirror-target', 'mirror-host', 'mirror-request-body']) {
      const v = r.get(key, ['N']);
      if (v) r.sink.warning('XG_MIRROR_UNSUPPORTED', r.ref, `${v.annotation} is not supported (xgate mirrors to a Service: use higress.io/mirror-target-service); no request is mirrored from it`, `metadata.annotations["${v.annotation}"]`);
    }
    const target = r.get('mirror-target-service', [...PREFIXES]);
    const pct = r.get('mirror-percentage', [...PREFIXES]);
    if (!target) {
      if (pct) r.sink.warning('XG_MIRROR_IGNORED', r.ref, `${pct.annotation} has no effect without mirror-target-service`, `metadata.annotations["${pct.annotation}"]`);
      return undefined;
    }
    let percent = 100;
    if (pct) {
      const p = parsePercent(pct.value);
      if (p === undefined) {
        r.invalid(pct, 'must be a percentage from 0 to 100 (up to 4 decimals); the route is served without mirroring');
        return undefined;
      }
      percent = p;
    }
    const ref = parseServiceRef(target.value);
    if (!ref) {
      r.invalid(target, 'must be [namespace/]service[:port] (DNS labels, port by number or name); the route is served without mirroring');
      return undefined;
    }
    const field = `metadata.annotations["${target.annotation}"]`;
    if (ref.namespace !== undefined && ref.namespace !== ctx.namespace) {
      r.sink.error('XG_MIRROR_NAMESPACE', r.ref, `mirror target ${ref.namespace}/${ref.name} is in another namespace than the Ingress (${ctx.namespace}); the route is served without mirroring`, field);
      return undefined;
    }
    const res = ctx.useBackend(serviceBackend(ref, ctx.namespace, ctx.store));
    if (!res.ok) {
      r.sink.error('XG_MIRROR_SERVICE', r.ref, `${res.message}; the route is served without mirroring`, field);
      return undefined;
    }
    if (percent === 0) return undefined;
    return { mirror: { cluster: res.cluster.name, percent } };
  },
};
