// Reading an Ingress's annotations is the largest per-Ingress cost of a build, and a
// change touches one Ingress among thousands: each Ingress's policies, diagnostics,
// the clusters its families resolved and the documents they asked for are kept from
// the last build and reused while the Ingress is the same object and everything the
// families read from the store (tracked-store.ts) still gives the same objects.
import { DiagnosticSink, type Diagnostic, type ObjectRef } from '../diagnostics.js';
import { readIngressPolicy, type IngressPolicy } from '../annotations/read.js';
import type { Ingress } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import { resolveBackend } from './backends.js';
import type { Cluster } from './ir.js';
import type { ModelOptions } from './options.js';
import { readRecord, recordHolds, trackStore, type Read, type ReadRecord } from './tracked-store.js';
import { sameModelOptions } from './options.js';

interface Entry {
  readonly opts: ModelOptions;
  readonly canary: boolean;
  readonly reads: ReadRecord;
  readonly policy: IngressPolicy;
  readonly diagnostics: readonly Diagnostic[];
  /** Clusters the families resolved (`useBackend`), to add to the model again. */
  readonly clusters: readonly Cluster[];
  readonly externalUrls: readonly string[];
  /** What readPolicy returns: the same object while the entry holds (plans are memoised on it). */
  readonly result: PolicyRead;
}

const memo = new WeakMap<Ingress, Entry>();

export interface PolicyRead {
  readonly policy: IngressPolicy;
  readonly clusters: readonly Cluster[];
  readonly externalUrls: readonly string[];
  /** What reading the annotations reported. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * The Ingress's policies (readIngressPolicy), with its diagnostics added to `sink`.
 * `canary`: read for diagnostics only (nothing is registered).
 */
export function readPolicy(ing: Ingress, ref: ObjectRef, sink: DiagnosticSink, store: StoreSnapshot, opts: ModelOptions, canary: boolean): PolicyRead {
  const read = policyOf(ing, ref, store, opts, canary);
  for (const d of read.diagnostics) sink.items.push(d);
  return read;
}

/** What the last policyOf() of this Ingress read from the store. */
export function policyReads(ing: Ingress): ReadRecord | undefined {
  return memo.get(ing)?.reads;
}

/** The Ingress's policies and what reading them reported: the same object while nothing it read changed. */
export function policyOf(ing: Ingress, ref: ObjectRef, store: StoreSnapshot, opts: ModelOptions, canary: boolean): PolicyRead {
  let e = memo.get(ing);
  if (!e || e.canary !== canary || !sameModelOptions(e.opts, opts) || !recordHolds(e.reads, store)) {
    const reads: Read[] = [];
    const view = trackStore(store, reads);
    const own = new DiagnosticSink();
    const clusters: Cluster[] = [];
    const urls = new Set<string>();
    const policy = readIngressPolicy(ing, ref, own, {
      store: view,
      diagnosticsOnly: canary,
      external: (url) => {
        urls.add(url);
        return view.external!.get(url);
      },
      useBackend: (backend) => {
        const r = resolveBackend(ref.namespace, backend, view);
        if (r.ok && !canary) clusters.push(r.cluster);
        return r;
      },
    });
    e = { opts, canary, reads: readRecord(reads, store), policy, diagnostics: own.items, clusters, externalUrls: [...urls], result: { policy, clusters, externalUrls: [...urls], diagnostics: own.items } };
    memo.set(ing, e);
  }
  return e.result;
}
