// Reads every family's annotations of one Ingress into its route policy.
import type { DiagnosticSink, ObjectRef } from '../diagnostics.js';
import type { RoutePolicy } from '../model/ir.js';
import type { Ingress } from '../sources/k8s-types.js';
import { FAMILIES } from './families.js';
import { AnnotationReader } from './reader.js';

export function readIngressPolicy(ing: Ingress, ref: ObjectRef, sink: DiagnosticSink): RoutePolicy | undefined {
  const annotations = ing.metadata.annotations ?? {};
  const r = new AnnotationReader(annotations, ref, sink);
  let policy: Record<string, unknown> | undefined;
  for (const family of FAMILIES) {
    const part = family.parse(r, { ingress: ing, namespace: ref.namespace });
    if (part) policy = { ...policy, ...part };
  }
  r.reportUnknown();
  return policy as RoutePolicy | undefined;
}
