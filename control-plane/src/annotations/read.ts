// Reads every family's annotations of one Ingress into its route and host policies.
import type { DiagnosticSink, ObjectRef } from '../diagnostics.js';
import type { HostPolicy, RoutePolicy } from '../model/ir.js';
import type { Ingress } from '../sources/k8s-types.js';
import type { FamilyContext } from './family.js';
import { FAMILIES } from './families.js';
import { AnnotationReader } from './reader.js';
import { SignatureMemo } from './signature-memo.js';

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
  // Field by field: a spread of the caller's object is a slow copy per Ingress.
  const ctx: FamilyContext = { store: pctx.store, diagnosticsOnly: pctx.diagnosticsOnly, useBackend: pctx.useBackend, external: pctx.external, ingress: ing, namespace: ref.namespace, ref };
  // The families that read annotations only are run once per set of annotations (see PURE).
  const signature = r.signature();
  const hit = pureMemo.get(signature);
  const made = hit || signature === undefined ? undefined : { route: new Array<Part>(FAMILIES.length), host: new Array<Part>(FAMILIES.length), read: [] as string[] };
  let reported = false;
  let route: Record<string, unknown> | undefined;
  let host: Record<string, unknown> | undefined;
  for (let i = 0; i < FAMILIES.length; i++) {
    const family = FAMILIES[i]!;
    let part: Part;
    let hostPart: Part;
    if (hit && PURE[i]) {
      part = hit.route[i];
      hostPart = hit.host[i];
    } else if (made && PURE[i]) {
      const before = sink.items.length;
      r.startLog();
      part = family.parse(r, ctx);
      hostPart = family.parseHost?.(r, ctx);
      for (const a of r.stopLog()) made.read.push(a);
      if (sink.items.length !== before) reported = true;
      made.route[i] = part;
      made.host[i] = hostPart;
    } else {
      part = family.parse(r, ctx);
      hostPart = family.parseHost?.(r, ctx);
    }
    // Later families' fields win, as with spreads, without copying the policy per family.
    if (part) route = Object.assign(route ?? {}, part);
    if (hostPart) host = Object.assign(host ?? {}, hostPart);
  }
  if (hit) r.markRead(hit.read);
  else if (made && !reported) pureMemo.set(signature, made);
  r.reportUnknown();
  return { ...(route ? { route: route as RoutePolicy } : {}), ...(host ? { host: host as HostPolicy } : {}) };
}

type Part = Record<string, unknown> | undefined;

/**
 * Families whose parse and parseHost take the reader only: what they return and report
 * depends on the Ingress's annotations under our prefixes alone (the reader's ref is only
 * named in diagnostics). Ingresses made from one chart or rollout tool carry the same
 * annotations, so their parts are worked out once per set of annotations and shared
 * (policies are never mutated), when working them out reported nothing; the annotations
 * they read count as read for the unknown-key report. A family that needs the Ingress,
 * the store or the options takes `ctx` and runs for every Ingress.
 */
const PURE: readonly boolean[] = FAMILIES.map((f) => f.parse.length <= 1 && (f.parseHost === undefined || f.parseHost.length <= 1));

/** Pure families' parts by annotation signature. */
const pureMemo = new SignatureMemo<{ readonly route: readonly Part[]; readonly host: readonly Part[]; readonly read: readonly string[] }>();

/** Which families are run once per set of annotations (for tests). */
export function pureFamilies(): readonly string[] {
  return FAMILIES.filter((_, i) => PURE[i]).map((f) => f.name);
}
