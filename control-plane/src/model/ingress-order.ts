// Which Ingresses are ours with valid metadata, and their priority order: oldest first
// (creationTimestamp), then namespace, then name — the same after every restart.
// Kept per Ingress object and from the last call: one changed Ingress costs a pass over
// the list and the sort of an almost sorted array (a run merge).
import { flat } from './flat.js';
import { DiagnosticSink, type Diagnostic, type ObjectRef } from '../diagnostics.js';
import { canaryMarker } from '../annotations/canary.js';
import type { Ingress, IngressClass } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import { hasOurDefaultClass, isOurIngress } from './ingress-class.js';
import { isDnsLabel, isDnsSubdomain } from './names.js';
import { sameModelOptions, type ModelOptions } from './options.js';

export interface Ordered {
  readonly ing: Ingress;
  /** `namespace/name` */
  readonly key: string;
  readonly ref: ObjectRef;
  readonly canary: boolean;
  /** creationTimestamp (when well-formed), U+0000, `namespace/name`: compares as byPriority. */
  readonly sortKey: string;
}

export interface IngressOrder {
  readonly list: readonly Ordered[];
  /** What admission reported (invalid names). */
  readonly diagnostics: readonly Diagnostic[];
}

interface Admission {
  readonly classes: ReadonlyMap<string, IngressClass>;
  readonly opts: ModelOptions;
  readonly ourDefault: boolean;
  /** Ours with valid metadata: its place in the order; otherwise undefined. */
  readonly ordered: Ordered | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

const admissions = new WeakMap<Ingress, Admission>();

export class IngressOrderMemo {
  private last: { readonly ingresses: ReadonlyMap<string, Ingress>; readonly classes: ReadonlyMap<string, IngressClass>; readonly opts: ModelOptions; readonly order: IngressOrder } | undefined;

  /**
   * The order after the Ingresses at `changed` keys (only those) changed since the last
   * call: O(changes × log n) plus a copy of the list. Undefined when the last call was
   * for other IngressClasses or options (then call order()).
   */
  update(store: StoreSnapshot, opts: ModelOptions, changed: ReadonlySet<string>): IngressOrder | undefined {
    const prev = this.last;
    if (!prev || prev.classes !== store.ingressClasses || !sameModelOptions(prev.opts, opts)) return undefined;
    if (!changed.size && prev.ingresses === store.ingresses) return prev.order;
    const ourDefault = hasOurDefaultClass(store.ingressClasses, opts);
    const list = [...prev.order.list];
    let diagnostics = prev.order.diagnostics;
    for (const key of changed) {
      const old = prev.ingresses.get(key);
      if (old) {
        const a = admissions.get(old);
        if (a?.diagnostics.length) diagnostics = diagnostics.filter((d) => !a.diagnostics.includes(d));
        if (a?.ordered) {
          const i = lowerBound(list, a.ordered.sortKey);
          if (list[i]?.ing === old) list.splice(i, 1);
          else return undefined; // not where expected: let the caller rebuild
        }
      }
      const ing = store.ingresses.get(key);
      if (ing) {
        const a = admit(ing, store.ingressClasses, opts, ourDefault);
        if (a.diagnostics.length) diagnostics = [...diagnostics, ...a.diagnostics];
        if (a.ordered) {
          const i = lowerBound(list, a.ordered.sortKey);
          if (list[i]?.sortKey === a.ordered.sortKey) return undefined;
          list.splice(i, 0, a.ordered);
        }
      }
    }
    const order: IngressOrder = { list, diagnostics };
    this.last = { ingresses: store.ingresses, classes: store.ingressClasses, opts, order };
    return order;
  }

  /** The Ordered of an Ingress admitted by the last order()/update() (undefined when not ours or invalid). */
  orderedOf(ing: Ingress): Ordered | undefined {
    return admissions.get(ing)?.ordered;
  }

  order(store: StoreSnapshot, opts: ModelOptions): IngressOrder {
    const classes = store.ingressClasses;
    const prev = this.last;
    if (prev && prev.ingresses === store.ingresses && prev.classes === classes && sameModelOptions(prev.opts, opts)) return prev.order;
    const ourDefault = hasOurDefaultClass(classes, opts);
    const seen = new Set<Ingress>();
    const diagnostics: Diagnostic[] = [];
    for (const ing of store.ingresses.values()) {
      const a = admit(ing, classes, opts, ourDefault);
      for (const d of a.diagnostics) diagnostics.push(d);
      if (a.ordered) seen.add(ing);
    }
    // The last order, less what is gone, then what is new: nearly sorted for the sort below.
    const list: Ordered[] = [];
    if (prev) {
      for (const o of prev.order.list) if (seen.delete(o.ing)) list.push(admissions.get(o.ing)!.ordered!);
    }
    for (const ing of seen) list.push(admissions.get(ing)!.ordered!);
    list.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    const order: IngressOrder = { list, diagnostics };
    this.last = { ingresses: store.ingresses, classes, opts, order };
    return order;
  }
}

function lowerBound(list: readonly Ordered[], sortKey: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.sortKey < sortKey) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function admit(ing: Ingress, classes: ReadonlyMap<string, IngressClass>, opts: ModelOptions, ourDefault: boolean): Admission {
  const a = admissions.get(ing);
  if (a && a.classes === classes && a.ourDefault === ourDefault && sameModelOptions(a.opts, opts)) return a;
  const own = new DiagnosticSink();
  const ordered = isOurIngress(ing, classes, opts, ourDefault) && validMeta(ing, own) ? orderedOf(ing) : undefined;
  const made: Admission = { classes, opts, ourDefault, ordered, diagnostics: own.items };
  admissions.set(ing, made);
  return made;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function orderedOf(ing: Ingress): Ordered {
  const ns = ing.metadata.namespace!;
  const ts = TIMESTAMP.test(ing.metadata.creationTimestamp ?? '') ? ing.metadata.creationTimestamp! : '';
  return {
    ing,
    key: flat(`${ns}/${ing.metadata.name}`),
    ref: { kind: 'Ingress', namespace: ns, name: ing.metadata.name },
    canary: canaryMarker(ing.metadata.annotations) !== 'primary',
    // U+0000 sorts below every character of a timestamp or a name: the same order as byPriority.
    sortKey: flat(`${ts}\u0000${ns}/${ing.metadata.name}`),
  };
}

function validMeta(ing: Ingress, sink: DiagnosticSink): boolean {
  const ns = ing.metadata.namespace ?? '';
  const ref: ObjectRef = { kind: 'Ingress', namespace: ns, name: String(ing.metadata.name) };
  if (!isDnsLabel(ns)) {
    sink.error('XG_NAME_INVALID', ref, `namespace ${JSON.stringify(ns)} is not a DNS-1123 label`, 'metadata.namespace');
    return false;
  }
  if (!isDnsSubdomain(ing.metadata.name)) {
    sink.error('XG_NAME_INVALID', ref, `name ${JSON.stringify(ing.metadata.name)} is not a DNS-1123 subdomain`, 'metadata.name');
    return false;
  }
  return true;
}

/** Oldest first (creationTimestamp), then namespace, then name: the same after every restart. */
export function byPriority(a: Ingress, b: Ingress): number {
  const ta = TIMESTAMP.test(a.metadata.creationTimestamp ?? '') ? a.metadata.creationTimestamp! : '';
  const tb = TIMESTAMP.test(b.metadata.creationTimestamp ?? '') ? b.metadata.creationTimestamp! : '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
