// An annotation family: one file that reads its keys from an Ingress and returns a
// typed part of the route policy (and, for domain-level keys, of the host policy),
// reporting every bad value as a diagnostic.
import type { ObjectRef } from '../diagnostics.js';
import type { Ingress, IngressBackend } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { HostPolicy, RoutePolicy } from '../model/ir.js';
import type { BackendResult } from '../model/backends.js';
import type { AnnotationReader } from './reader.js';
import type { ExternalDocument } from '../sources/external.js';

export interface FamilyContext {
  readonly ingress: Ingress;
  readonly namespace: string;
  /** The Ingress, for diagnostics (`r.sink.error(code, ctx.ref, …)`). */
  readonly ref: ObjectRef;
  /** Read-only view of every watched object (Secrets, Services…), for references in values. */
  readonly store: StoreSnapshot;
  /**
   * True when the policy is read for its diagnostics only (a canary inherits its
   * primary's policy): do not register clusters or anything else.
   */
  readonly diagnosticsOnly: boolean;
  /**
   * Resolves a Service backend (same namespace as the Ingress) and, when it resolves,
   * adds its cluster to the model: use it for mirror targets, `destination` splits,
   * auth services that are Services. The caller reports a failed result.
   */
  useBackend(backend: IngressBackend): BackendResult;
  /**
   * A document fetched by the control plane (e.g. an OIDC discovery document), by URL.
   * Asking records the URL as wanted, so the fetcher fetches it and the model is rebuilt
   * when it arrives; `undefined` until then. See sources/external.ts.
   */
  external(url: string): ExternalDocument | undefined;
}

export type { ExternalDocument } from '../sources/external.js';

export interface AnnotationFamily {
  /** e.g. `timeout`, `cors`, `canary`. */
  readonly name: string;
  /**
   * Reads the family's keys (every key read through `r` counts as known) and returns
   * the fields it adds to the route policy of every route of this Ingress, or nothing.
   * A security family whose value is unusable returns `{ failClosed: … }`. Without any
   * of its keys set it returns undefined and reports nothing: an
   * Ingress without any key under our prefixes skips the families altogether.
   *
   * A family whose parse (and parseHost) take the reader only depends on the annotation
   * values alone: readIngressPolicy works its parts out once per set of annotations and
   * shares them between Ingresses (annotations/read.ts). One that needs the Ingress, the
   * store, the namespace or anything else declares `ctx` and runs for every Ingress.
   */
  parse(r: AnnotationReader, ctx: FamilyContext): Partial<RoutePolicy> | undefined;
  /**
   * Domain-level keys (e.g. M `domain-whitelist-source-range`, `tls-min-protocol-version`):
   * the fields this Ingress asks for on each of its hosts. The model merges them per host
   * (oldest Ingress first; a later one that disagrees gets XG_HOST_POLICY_CONFLICT).
   */
  parseHost?(r: AnnotationReader, ctx: FamilyContext): Partial<HostPolicy> | undefined;
}
