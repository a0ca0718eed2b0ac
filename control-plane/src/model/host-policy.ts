// Domain-level policy: what applies to every route of a host (e.g. M
// `domain-whitelist-source-range`, per-domain TLS versions). Several Ingresses can
// serve one host, so their wishes are merged per field, deterministically: the oldest
// Ingress (the build's priority order) that sets a field wins; a later Ingress that
// asks for something else gets XG_HOST_POLICY_CONFLICT.
import type { DiagnosticSink, ObjectRef } from '../diagnostics.js';
import type { HostPolicy } from './ir.js';

export interface HostPolicyWish {
  readonly source: ObjectRef;
  /** The hosts the Ingress's rules name (`*` for rules without a host). */
  readonly hosts: readonly string[];
  readonly policy: HostPolicy;
}

/** `wishes` in priority order (oldest first). */
export function mergeHostPolicies(wishes: readonly HostPolicyWish[], sink: DiagnosticSink): Map<string, HostPolicy> {
  const merged = new Map<string, Record<string, unknown>>();
  const owners = new Map<string, ObjectRef>();
  for (const w of wishes) {
    for (const host of w.hosts) {
      let p = merged.get(host);
      if (!p) merged.set(host, (p = {}));
      for (const [field, value] of Object.entries(w.policy)) {
        if (value === undefined) continue;
        if (!(field in p)) {
          p[field] = value;
          owners.set(`${host}\u0000${field}`, w.source);
          continue;
        }
        if (JSON.stringify(p[field]) === JSON.stringify(value)) continue;
        const owner = owners.get(`${host}\u0000${field}`)!;
        sink.warning('XG_HOST_POLICY_CONFLICT', w.source, `host ${host}: ${field} is already set differently by Ingress ${owner.namespace}/${owner.name}, which is older; this Ingress's value is ignored for the host`);
      }
    }
  }
  const out = new Map<string, HostPolicy>();
  for (const [host, p] of merged) if (Object.keys(p).length) out.set(host, p as HostPolicy);
  return out;
}
