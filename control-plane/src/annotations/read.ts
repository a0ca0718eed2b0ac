// Reads every family's annotations of one Ingress into its route and host policies.
import type { DiagnosticSink, ObjectRef } from '../diagnostics.js';
import type { HostPolicy, RoutePolicy } from '../model/ir.js';
import type { Ingress } from '../sources/k8s-types.js';
import type { FamilyContext } from './family.js';
import { FAMILIES } from './families.js';
import { AnnotationReader } from './reader.js';

export interface IngressPolicy {
  readonly route?: RoutePolicy;
  readonly host?: HostPolicy;
}

export type PolicyContext = Omit<FamilyContext, 'ingress' | 'namespace' | 'ref'>;

/** The policy of an Ingress without any annotation under our prefixes. */
const NO_POLICY: IngressPolicy = Object.freeze({});

export function readIngressPolicy(ing: Ingress, ref: ObjectRef, sink: DiagnosticSink, pctx: PolicyContext): IngressPolicy {
  const annotations = ing.metadata.annotations ?? {};
  const r = new AnnotationReader(annotations, ref, sink);
  // No key of ours: every family reads nothing and adds nothing (AnnotationFamily's
  // contract, checked family by family in test/unit/annotation-families.test.ts), and
  // nothing is unknown. Most Ingresses of a large cluster carry only other tools' keys.
  if (r.isEmpty()) return NO_POLICY;
  const ctx: FamilyContext = { ...pctx, ingress: ing, namespace: ref.namespace, ref };
  let route: Record<string, unknown> | undefined;
  let host: Record<string, unknown> | undefined;
  for (const family of FAMILIES) {
    const part = family.parse(r, ctx);
    if (part) route = { ...route, ...part };
    const hostPart = family.parseHost?.(r, ctx);
    if (hostPart) host = { ...host, ...hostPart };
  }
  r.reportUnknown();
  return { ...(route ? { route: route as RoutePolicy } : {}), ...(host ? { host: host as HostPolicy } : {}) };
}
