// Store → Model: which Ingresses are ours, their hosts, paths, backends and TLS,
// with every problem turned into a diagnostic on the object that carries it.
// Pure: the same store gives the same model and the same diagnostics (callers sort them).
//
// How a build works, so that one changed Ingress among thousands costs little:
// 1. the Ingresses that are ours, in priority order (ingress-order.ts);
// 2. each Ingress worked out on its own — annotations (policy-memo.ts), then its plan
//    (ingress-plan.ts; canary.ts for canaries) — kept per Ingress object while nothing it
//    read changed. Which Ingresses to look at: those the store says changed, plus those
//    whose policies or plan read a Service, EndpointSlice, Secret, Pod or document the
//    store says changed (a reverse index of their reads); every Ingress only when that
//    is not known (options or IngressClasses changed, a relist, another store);
// 3. every claim is keyed by host, so each host is replayed on its own from the plans
//    naming it, oldest first (host-replay.ts). Only the hosts named by a changed plan
//    (before or after the change) are replayed; every other host keeps its last result,
//    VirtualHost object included, which is what lets every later stage reuse its work;
// 4. clusters (counted by who uses them) get their cluster-level policies, per cluster,
//    reused while the same wishes apply (cluster-policy.ts); a changed Service rechecks
//    its own clusters;
// 5. the build says which virtual hosts it replaced in place (ModelBuild.changes), so
//    translation patches what it derived from the last list instead of comparing it.
import type { Diagnostic, ObjectRef } from '../diagnostics.js';
import { DiagnosticSink } from '../diagnostics.js';
import type { Ingress } from '../sources/k8s-types.js';
import type { ChangeField, StoreSnapshot } from '../sources/store.js';
import { canaryReads, planCanary, type CanaryPlan } from './canary.js';
import { clusterWithPolicies, FACET_COUNT, serviceWishes, wishesOf, type RouteWish, type Wish } from './cluster-policy.js';
import { canaryPartsOf, partsOf, replayHost, type HostPrimary, type HostResult } from './host-replay.js';
import { CATCH_ALL_HOST, planIngress, planReads, type IngressPlan } from './ingress-plan.js';
import { IngressOrderMemo, type Ordered } from './ingress-order.js';
import type { Cluster, Model, ModelChanges, ReplacedInPlace, TlsHost, TlsSecret, VirtualHost } from './ir.js';
import { sameModelOptions, type ModelOptions } from './options.js';
import { KeyIndex } from './key-index.js';
import { policyOf, policyReads, type PolicyRead } from './policy-memo.js';
import type { ReadRecord } from './tracked-store.js';
import { sortInPlace } from './small-sort.js';

export { CATCH_ALL_HOST };
export { byPriority } from './ingress-order.js';

export interface ModelBuild {
  readonly model: Model;
  readonly diagnostics: DiagnosticSink['items'];
  /** The Ingresses that were served (in whole or part), in priority order. */
  readonly ingresses: readonly ObjectRef[];
  /** URLs of documents the annotations asked the control plane to fetch (sorted). */
  readonly externalUrls: readonly string[];
  /** How the model differs from the last one this builder made, where it knows (for translate()). */
  readonly changes?: ModelChanges;
}

/** One Ingress as the last build saw it. */
/** The Ingresses naming a host, oldest first (their place in the admission order). */
function bySortKey(a: IngressState, b: IngressState): number {
  return a.ordered.sortKey < b.ordered.sortKey ? -1 : a.ordered.sortKey > b.ordered.sortKey ? 1 : 0;
}

interface IngressState {
  readonly ordered: Ordered;
  readonly read: PolicyRead;
  readonly plan?: IngressPlan;
  readonly canary?: CanaryPlan;
  /** The hosts its plan names. */
  readonly hosts: readonly string[];
  /** Clusters it adds whatever the claims (resolved by its annotations, its default backend). */
  readonly clusters: readonly Cluster[];
  readonly diagnostics: readonly Diagnostic[];
  /** What its policies and plan read from the store (indexed in ModelBuilder.readers). */
  readonly reads: readonly ReadRecord[];
  /** Build generation that last saw it in the order. */
  seen: number;
}

type StoreMaps = readonly unknown[];

/** The maps other than the Ingresses, in storeMaps order. */
const MAP_FIELDS: readonly ChangeField[] = ['ingressClasses', 'services', 'endpointSlices', 'secrets', 'pods', 'external'];

function storeMaps(store: StoreSnapshot): StoreMaps {
  return [store.ingressClasses, store.services, store.endpointSlices, store.secrets, store.pods, store.external];
}

/**
 * The incremental model builder. Its state is the last build's; any store can be given
 * (the next build's differences are found by object identity), so it is correct for any
 * sequence of stores and cheap for a sequence of small changes.
 */
export class ModelBuilder {
  private opts: ModelOptions | undefined;
  private lastSeq: number | undefined;
  private lastIngresses: unknown;
  private maps: StoreMaps | undefined;
  private generation = 0;
  private readonly order = new IngressOrderMemo();
  private lastList: readonly Ordered[] | undefined;
  private readonly states = new Map<string, IngressState>();
  /** host → keys of the Ingresses (primaries and canaries) whose plans name it. */
  private readonly hostIndex = new Map<string, Set<string>>();
  private readonly hostResults = new Map<string, HostResult>();
  private readonly vhosts = new SortedMap<VirtualHost>();
  private readonly tlsHosts = new SortedMap<TlsHost>();
  private readonly clusterUse = new Counted<Cluster>();
  private readonly secretUse = new Counted<TlsSecret>();
  /** Hosts whose result carries diagnostics or a TLS failure (few). */
  private readonly diagHosts = new Set<string>();
  /** Hosts where a canary is served (canary Ingress key → number of such hosts). */
  private readonly canaryHosts = new Map<string, number>();
  /** cluster name → hosts whose routes make cluster-level wishes for it. */
  private readonly wishHosts = new Map<string, Set<string>>();
  /** Diagnostics and external URLs per Ingress key, for the Ingresses that have any. */
  private readonly ingressDiags = new Map<string, readonly Diagnostic[]>();
  private readonly ingressUrls = new Map<string, readonly string[]>();
  /** Clusters whose inputs changed since their policies were last applied. */
  private readonly dirtyClusters = new Set<string>();
  /** Per cluster name: the last result of applying the policies, and its inputs. */
  private readonly policyMemo = new Map<string, PolicyEntry>();
  private readonly withPolicies = new SortedMap<Cluster>();
  /** Clusters whose policies reported something. */
  private readonly policyDiags = new Set<string>();
  /** Service wishes with diagnostics → number of clusters using them. */
  private readonly serviceDiags = new Map<ServiceWishesOf, number>();
  /** Per store map: key → the Ingresses whose policies or plan read it. */
  private readonly readers = new Map<string, KeyIndex>();
  /** Per store map: the Ingresses that walked the whole map. */
  private readonly wholeReaders = new Map<string, Set<string>>();
  /** Service key (`namespace/name`) → the clusters of that Service in use. */
  private readonly clustersOfService = new KeyIndex();
  /** Clusters whose Service's wishes read the store (a Secret): rechecked when any map changes. */
  private readonly readingClusters = new Set<string>();

  build(store: StoreSnapshot, opts: ModelOptions): ModelBuild {
    const gen = ++this.generation;
    const maps = storeMaps(store);
    const prevMaps = this.maps;
    const optsSame = this.opts !== undefined && sameModelOptions(this.opts, opts);
    // The maps other than the Ingresses that changed, and, when the store can tell which
    // keys, the Ingresses that read one of them (only those are worked out again). Else
    // (IngressClasses, options, a relist, another store) every Ingress is looked at.
    const changedFields = prevMaps ? MAP_FIELDS.filter((_, i) => maps[i] !== prevMaps[i]) : MAP_FIELDS;
    const changes = optsSame && prevMaps && this.lastSeq !== undefined && changedFields.length ? store.changesSince?.(this.lastSeq) : undefined;
    let affected: Set<string> | undefined = new Set<string>();
    for (const f of changedFields) {
      const keys = changes?.[f];
      if (f === 'ingressClasses' || keys === undefined || keys === 'all') {
        affected = undefined;
        break;
      }
      const index = this.readers.get(f);
      if (index) for (const k of keys) index.collect(k, affected);
      const whole = this.wholeReaders.get(f);
      if (whole) for (const key of whole) affected.add(key);
    }
    const fullScan = !optsSame || !prevMaps || affected === undefined;
    const secretsChanged = !prevMaps || prevMaps[3] !== store.secrets;
    const secretKeys = fullScan ? undefined : changes?.secrets;
    const serviceKeys = fullScan ? undefined : changes?.services;
    this.opts = opts;
    this.maps = maps;

    // What Ingresses changed: told by the store when it can (keys since our last snapshot), else found by comparing.
    const changed = !fullScan && this.lastSeq !== undefined ? store.ingressChangesSince?.(this.lastSeq) : undefined;
    const known = changed && (changed.size > 0 || store.ingresses === this.lastIngresses) ? this.order.update(store, opts, changed) : undefined;
    const order = known ?? this.order.order(store, opts);
    this.lastSeq = store.seq;
    this.lastIngresses = store.ingresses;
    const dirtyHosts = new Set<string>();
    if (known && changed) {
      for (const key of changed) {
        const st = this.states.get(key);
        const ing = store.ingresses.get(key);
        const o = ing ? this.order.orderedOf(ing) : undefined;
        if (o) {
          if (!st || st.ordered !== o) this.update(o, st, store, opts, dirtyHosts);
        } else if (st) {
          this.states.delete(key);
          this.unindex(key, st, dirtyHosts);
        }
      }
      this.lastList = order.list;
    } else if (fullScan || order.list !== this.lastList) {
      for (const o of order.list) {
        const st = this.states.get(o.key);
        if (st && st.ordered === o && !fullScan) {
          st.seen = gen;
          continue;
        }
        this.update(o, st, store, opts, dirtyHosts).seen = gen;
      }
      for (const [key, st] of this.states) {
        if (st.seen === gen) continue;
        this.states.delete(key);
        this.unindex(key, st, dirtyHosts);
      }
      this.lastList = order.list;
    }
    // The Ingresses that read a changed Service, EndpointSlice, Secret, Pod or document, and did not change themselves.
    if (affected?.size) {
      for (const key of affected) {
        if (changed?.has(key)) continue;
        const st = this.states.get(key);
        if (st) this.update(st.ordered, st, store, opts, dirtyHosts).seen = gen;
      }
    }
    if (secretsChanged) {
      // A TLS host replays when the Secret its claim resolved changed (any, when the keys are not known), or when it had none.
      const keys = secretKeys instanceof Set ? secretKeys : undefined;
      for (const [host, r] of this.hostResults) {
        if (r.tlsFailure !== undefined || (r.secretObject !== undefined && (!keys || keys.has(secretKeyOf(r.secretObject))))) dirtyHosts.add(host);
      }
    }
    for (const host of dirtyHosts) this.replay(host, store);
    // Cluster-level policies read Services: the clusters of a changed Service are rechecked (every cluster when which is not known).
    if (!this.servicesSeen || this.servicesSeen !== store.services) {
      this.servicesSeen = store.services;
      if (serviceKeys instanceof Set) for (const k of serviceKeys) this.clustersOfService.collect(k, this.dirtyClusters);
      else for (const name of this.clusterUse.names()) this.dirtyClusters.add(name);
    }
    if (changedFields.length) for (const name of this.readingClusters) this.dirtyClusters.add(name);
    this.applyClusterPolicies(store);

    const list = order.list;
    // Every primary in priority order, then the canaries served somewhere: made when asked (status reads it).
    const canaries = this.canaryHosts.size ? new Set(this.canaryHosts.keys()) : undefined;
    let served: readonly ObjectRef[] | undefined;
    const virtualHosts = this.vhosts.list();
    const replaced = this.vhosts.replacedInPlace(virtualHosts);
    return {
      ...(replaced ? { changes: { virtualHosts: replaced } } : {}),
      model: {
        // The same arrays as the last model's while nothing in them changed (translation then skips them at once).
        virtualHosts,
        tlsHosts: this.tlsHosts.list(),
        clusters: this.withPolicies.list(),
        secrets: this.secretUse.sorted(),
      },
      diagnostics: this.diagnostics(order.diagnostics),
      get ingresses(): readonly ObjectRef[] {
        return (served ??= servedOf(list, canaries));
      },
      externalUrls: [...new Set([...this.ingressUrls.values()].flat())].sort(),
    };
  }

  private servicesSeen: unknown;

  /** Re-reads one Ingress; indexes what changed. */
  private update(o: Ordered, st: IngressState | undefined, store: StoreSnapshot, opts: ModelOptions, dirty: Set<string>): IngressState {
    const read = policyOf(o.ing, o.ref, store, opts, o.canary);
    const plan = o.canary ? undefined : planIngress(o.ing, read, store);
    const canary = o.canary ? planCanary(o.ing, store, CATCH_ALL_HOST) : undefined;
    if (st && st.ordered.ing === o.ing && st.read === read && st.plan === plan && st.canary === canary) {
      const same: IngressState = { ...st, ordered: o };
      this.states.set(o.key, same);
      return same;
    }
    if (st) this.unindex(o.key, st, dirty);
    const hosts = plan ? [...partsOf(plan).keys()] : canary ? [...canaryPartsOf(canary).keys()] : [];
    const next: IngressState = {
      ordered: o,
      read,
      plan,
      canary,
      hosts,
      clusters: joined(read.clusters, plan?.clusters),
      diagnostics: joined(joined(read.diagnostics, plan?.diagnostics), canary?.diagnostics),
      reads: readsOf(o.ing, plan !== undefined, canary !== undefined),
      seen: 0,
    };
    this.states.set(o.key, next);
    this.indexReads(o.key, next.reads, true);
    if (next.diagnostics.length) this.ingressDiags.set(o.key, next.diagnostics);
    if (read.externalUrls.length) this.ingressUrls.set(o.key, read.externalUrls);
    for (const h of hosts) {
      let s = this.hostIndex.get(h);
      if (!s) this.hostIndex.set(h, (s = new Set()));
      s.add(o.key);
      dirty.add(h);
    }
    for (const c of next.clusters) this.useCluster(c);
    return next;
  }

  /** Adds (or removes) an Ingress as a reader of what its records read. */
  private indexReads(key: string, records: readonly ReadRecord[], add: boolean): void {
    for (const rec of records) {
      for (const r of rec.reads) {
        if (r.key === undefined) {
          let whole = this.wholeReaders.get(r.field);
          if (add) {
            if (!whole) this.wholeReaders.set(r.field, (whole = new Set()));
            whole.add(key);
          } else whole?.delete(key);
          continue;
        }
        let index = this.readers.get(r.field);
        if (add) {
          if (!index) this.readers.set(r.field, (index = new KeyIndex()));
          index.add(r.key, key);
        } else index?.remove(r.key, key);
      }
    }
  }

  private unindex(key: string, st: IngressState, dirty: Set<string>): void {
    this.indexReads(key, st.reads, false);
    for (const h of st.hosts) {
      const s = this.hostIndex.get(h);
      if (s) {
        s.delete(key);
        if (!s.size) this.hostIndex.delete(h);
      }
      dirty.add(h);
    }
    for (const c of st.clusters) this.unuseCluster(c);
    this.ingressDiags.delete(key);
    this.ingressUrls.delete(key);
  }

  private useCluster(c: Cluster): void {
    if (this.clusterUse.add(c.name, c)) this.clustersOfService.add(`${c.namespace}/${c.service}`, c.name);
    this.dirtyClusters.add(c.name);
  }

  private unuseCluster(c: Cluster): void {
    if (this.clusterUse.remove(c.name, c)) this.clustersOfService.remove(`${c.namespace}/${c.service}`, c.name);
    this.dirtyClusters.add(c.name);
  }

  private replay(host: string, store: StoreSnapshot): void {
    const prior = this.hostResults.get(host);
    const keys = this.hostIndex.get(host);
    let result: HostResult | undefined;
    if (keys?.size) {
      const states: IngressState[] = [];
      for (const k of keys) states.push(this.states.get(k)!);
      sortInPlace(states, bySortKey);
      const primaries: HostPrimary[] = [];
      const canaries: CanaryPlan[] = [];
      for (const st of states) {
        if (st.plan) primaries.push({ ref: st.ordered.ref, part: partsOf(st.plan).get(host)! });
        else if (st.canary) {
          const part = canaryPartsOf(st.canary).get(host);
          if (part) canaries.push(part);
        }
      }
      result = replayHost(host, primaries, canaries, store, prior);
    }
    if (result) {
      for (const c of result.clusters) this.useCluster(c);
      if (result.secret) this.secretUse.add(result.secret.name, result.secret);
      for (const c of result.canaries) this.count(this.canaryHosts, `${c.namespace}/${c.name}`, 1);
    }
    // Added before removed: an object used before and after keeps its place (no re-sort).
    if (prior) {
      for (const c of prior.clusters) this.unuseCluster(c);
      if (prior.secret) this.secretUse.remove(prior.secret.name, prior.secret);
      for (const c of prior.canaries) this.count(this.canaryHosts, `${c.namespace}/${c.name}`, -1);
    }
    // The cluster wish index: removed, then added (a Set per cluster, not counted).
    if (prior?.vh) for (const w of wishesOf(prior.vh)) this.indexWish(w.cluster, host, false);
    if (result?.vh) for (const w of wishesOf(result.vh)) this.indexWish(w.cluster, host, true);
    if (result) {
      this.hostResults.set(host, result);
    } else this.hostResults.delete(host);
    if (result?.vh) this.vhosts.set(host, result.vh);
    else this.vhosts.delete(host);
    if (result?.tlsHost) this.tlsHosts.set(host, result.tlsHost);
    else this.tlsHosts.delete(host);
    if (result && (result.diagnostics.length || result.tlsFailure)) this.diagHosts.add(host);
    else this.diagHosts.delete(host);
  }

  private count<K>(m: Map<K, number>, key: K, d: number): void {
    const n = (m.get(key) ?? 0) + d;
    if (n > 0) m.set(key, n);
    else m.delete(key);
  }

  private indexWish(cluster: string, host: string, add: boolean): void {
    this.dirtyClusters.add(cluster);
    let s = this.wishHosts.get(cluster);
    if (add) {
      if (!s) this.wishHosts.set(cluster, (s = new Set()));
      s.add(host);
    } else if (s) {
      s.delete(host);
      if (!s.size) this.wishHosts.delete(cluster);
    }
  }

  private diagnostics(admission: readonly Diagnostic[]): Diagnostic[] {
    const out: Diagnostic[] = [...admission];
    for (const ds of this.ingressDiags.values()) for (const d of ds) out.push(d);
    const failures = new Map<string, { host: string; diagnostic: Diagnostic }>();
    for (const host of this.diagHosts) {
      const r = this.hostResults.get(host)!;
      for (const d of r.diagnostics) out.push(d);
      const f = r.tlsFailure;
      if (f) {
        const prior = failures.get(f.key);
        if (!prior || host < prior.host) failures.set(f.key, { host, diagnostic: f.diagnostic });
      }
    }
    for (const f of failures.values()) out.push(f.diagnostic);
    for (const sw of this.serviceDiags.keys()) for (const d of sw.diagnostics) out.push(d);
    for (const name of this.policyDiags) for (const d of this.policyMemo.get(name)!.diagnostics) out.push(d);
    return out;
  }

  /** Applies cluster-level policies (Service annotations, Ingress wishes) to the clusters whose inputs changed. */
  private applyClusterPolicies(store: StoreSnapshot): void {
    if (!this.dirtyClusters.size) return;
    const rank = (w: Wish<unknown>): string => {
      const st = this.states.get(`${w.source.namespace}/${w.source.name}`);
      // Canaries come after every primary (as in the served order).
      return st ? `${st.ordered.canary ? '1' : '0'}${st.ordered.sortKey}` : '2';
    };
    for (const name of this.dirtyClusters) {
      const base = this.clusterUse.get(name);
      const prior = this.policyMemo.get(name);
      if (prior && prior.service.diagnostics.length) this.count(this.serviceDiags, prior.service, -1);
      this.policyDiags.delete(name);
      if (!base) {
        this.policyMemo.delete(name);
        this.withPolicies.delete(name);
        this.readingClusters.delete(name);
        continue;
      }
      const service = serviceWishes(base.namespace, base.service, store);
      if (service.reads.reads.length) this.readingClusters.add(name);
      else this.readingClusters.delete(name);
      if (service.diagnostics.length) this.count(this.serviceDiags, service, 1);
      // Ingress wishes per facet, one per Ingress (hosts in name order, routes in order: the last wins).
      const hosts = this.wishHosts.get(name);
      let wishes: Wish<unknown>[][] = NO_WISHES;
      if (hosts?.size) {
        const perFacet = Array.from({ length: FACET_COUNT }, () => new Map<string, Wish<unknown>>());
        for (const host of [...hosts].sort()) {
          for (const w of wishesOf(this.hostResults.get(host)!.vh!) as readonly RouteWish[]) if (w.cluster === name) perFacet[w.facet]!.set(w.ingress, w.wish);
        }
        wishes = perFacet.map((m) => [...m.values()].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0)));
      }
      let entry = prior;
      if (!prior || prior.base !== base || prior.service !== service || !sameWishes(prior.wishes, wishes)) {
        const sink = new DiagnosticSink();
        const cluster = clusterWithPolicies(base, service, wishes, sink);
        entry = { base, service, wishes, cluster: prior && sameCluster(prior.cluster, cluster) ? prior.cluster : cluster, diagnostics: sink.items };
      }
      this.policyMemo.set(name, entry!);
      this.withPolicies.set(name, entry!.cluster);
      if (entry!.diagnostics.length) this.policyDiags.add(name);
    }
    this.dirtyClusters.clear();
  }
}

type ServiceWishesOf = ReturnType<typeof serviceWishes>;

/** What an Ingress's policies, plan (a primary) or canary plan read from the store, as last worked out. */
function readsOf(ing: Ingress, primary: boolean, canary: boolean): readonly ReadRecord[] {
  const out: ReadRecord[] = [];
  const policy = policyReads(ing);
  if (policy?.reads.length) out.push(policy);
  const plan = primary ? planReads(ing) : undefined;
  if (plan?.reads.length) out.push(plan);
  const canaryPlan = canary ? canaryReads(ing) : undefined;
  if (canaryPlan?.reads.length) out.push(canaryPlan);
  return out;
}

function secretKeyOf(secret: { readonly metadata: { readonly namespace?: string; readonly name: string } }): string {
  return `${secret.metadata.namespace}/${secret.metadata.name}`;
}

interface PolicyEntry {
  readonly base: Cluster;
  readonly service: ServiceWishesOf;
  readonly wishes: readonly Wish<unknown>[][];
  readonly cluster: Cluster;
  readonly diagnostics: readonly Diagnostic[];
}

const NO_WISHES: Wish<unknown>[][] = [];

/** Every primary in priority order, then the canaries served somewhere (also in priority order). */
function servedOf(list: readonly Ordered[], canaries: ReadonlySet<string> | undefined): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const o of list) if (!o.canary) out.push(o.ref);
  if (canaries) for (const o of list) if (o.canary && canaries.has(o.key)) out.push(o.ref);
  return out;
}

function sameWishes(a: readonly (readonly Wish<unknown>[])[], b: readonly (readonly Wish<unknown>[])[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

function sameCluster(a: Cluster, b: Cluster): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Names added since the sorted arrays were last brought up to date: a few are inserted
 * one by one (binary search, splice); more are sorted and merged in one pass. A build
 * from scratch adds every name (16k clusters at 10,000 Ingresses): one splice each would
 * move half the array every time.
 */
const SPLICE_AT_MOST = 32;

/** A sorted list of names with insertion and removal by binary search. */
class SortedNames {
  private sortedNames: string[] = [];
  private readonly set = new Set<string>();
  private pending: string[] = [];
  get names(): readonly string[] {
    if (this.pending.length) this.flush();
    return this.sortedNames;
  }
  add(name: string): void {
    const size = this.set.size;
    this.set.add(name);
    if (this.set.size !== size) this.pending.push(name);
  }
  delete(name: string): void {
    if (!this.set.delete(name)) return;
    if (this.pending.length) this.flush();
    this.sortedNames.splice(lowerBound(this.sortedNames, name), 1);
  }
  private flush(): void {
    const pending = this.pending;
    this.pending = [];
    if (pending.length <= SPLICE_AT_MOST) {
      for (const name of pending) this.sortedNames.splice(lowerBound(this.sortedNames, name), 0, name);
      return;
    }
    pending.sort(); // strings: UTF-16 code-unit order, as `<` (no comparator called per pair)
    this.sortedNames = mergeSorted(this.sortedNames, pending);
  }
}

/** Values kept in the order of their names (keys and values in two parallel arrays). */
class SortedMap<V> {
  private keys: string[] = [];
  private values: V[] = [];
  private readonly index = new Map<string, V>();
  /** Keys set since keys and values were last brought up to date (their values are in index). */
  private pending: string[] = [];
  /** A copy of values, made when asked after a change (never mutated: models hold it). */
  private copy: readonly V[] | undefined;
  /** Since the copy was made: the indices of values replaced in place, or undefined once a key was added or removed. */
  private replaced: number[] | undefined = [];
  /** The last copy made, and how it differs from the one before (undefined: not known). */
  private delta: { readonly list: readonly V[]; readonly change: ReplacedInPlace<V> | undefined } | undefined;
  list(): readonly V[] {
    if (this.pending.length) this.flush();
    if (!this.copy) {
      const from = this.delta?.list;
      const copy = [...this.values];
      const at = this.replaced;
      this.delta = { list: copy, change: from && at && from.length === copy.length ? { from, at: [...new Set(at)].sort((a, b) => a - b) } : undefined };
      this.copy = copy;
      this.replaced = [];
    } else if (this.delta?.list === this.copy && this.delta.change?.at.length !== 0) {
      // Asked again without a change: the list is the last one.
      this.delta = { list: this.copy, change: { from: this.copy, at: [] } };
    }
    return this.copy;
  }
  /** When `list` (a list() result) differs from the copy before it only by values replaced in place: where. */
  replacedInPlace(list: readonly V[]): ReplacedInPlace<V> | undefined {
    return this.delta?.list === list ? this.delta.change : undefined;
  }
  set(name: string, value: V): void {
    // Values are objects: undefined is no value.
    const prev = this.index.get(name);
    if (prev === value) return;
    const had = prev !== undefined;
    this.copy = undefined;
    this.index.set(name, value);
    if (!had) {
      this.pending.push(name);
      this.replaced = undefined;
      return;
    }
    // A key still pending takes its value from index when it is merged.
    const i = lowerBound(this.keys, name);
    if (this.keys[i] === name) {
      this.values[i] = value;
      this.replaced?.push(i);
    }
  }
  delete(name: string): void {
    if (!this.index.delete(name)) return;
    if (this.pending.length) this.flush();
    this.copy = undefined;
    this.replaced = undefined;
    const i = lowerBound(this.keys, name);
    this.keys.splice(i, 1);
    this.values.splice(i, 1);
  }
  private flush(): void {
    const pending = this.pending;
    this.pending = [];
    if (pending.length <= SPLICE_AT_MOST) {
      for (const name of pending) {
        const i = lowerBound(this.keys, name);
        this.keys.splice(i, 0, name);
        this.values.splice(i, 0, this.index.get(name)!);
      }
      return;
    }
    pending.sort(); // strings: UTF-16 code-unit order, as `<` (no comparator called per pair)
    this.keys = mergeSorted(this.keys, pending);
    this.values = this.keys.map((k) => this.index.get(k)!);
  }
}

/** Two sorted lists of distinct names (none in both) as one sorted list. */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

function lowerBound(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Objects by name, counted by their users. Users of one name hold equal objects (a
 * cluster is made from its Service port alone): the one kept is the first added still
 * in use, so it stays the same object while it is used.
 */
class Counted<T extends object> {
  /**
   * Per name, its objects and how many uses each has, in the order they were first added:
   * mostly one object (the model gives one cluster object per Service port), so the first
   * is held inline (it is the one kept) and a Map is made only for a second object of the
   * same name.
   */
  private readonly byName = new Map<string, { first: T; n: number; more?: Map<T, number> }>();
  private readonly names_ = new SortedNames();
  private cache: T[] | undefined;

  /** Adds a use; true when the name had none. */
  add(name: string, obj: T): boolean {
    const u = this.byName.get(name);
    if (!u) {
      this.byName.set(name, { first: obj, n: 1 });
      this.names_.add(name);
      this.cache = undefined;
      return true;
    }
    if (u.first === obj) {
      u.n++;
      return false;
    }
    const more = (u.more ??= new Map());
    more.set(obj, (more.get(obj) ?? 0) + 1);
    return false;
  }

  /** Removes a use; true when the name has none left. */
  remove(name: string, obj: T): boolean {
    const u = this.byName.get(name);
    if (!u) return false;
    if (u.first !== obj) {
      const n = u.more?.get(obj);
      if (n === undefined) return false;
      if (n > 1) u.more!.set(obj, n - 1);
      else u.more!.delete(obj);
      return false;
    }
    if (u.n > 1) {
      u.n--;
      return false;
    }
    // The first object's last use: the next one (in the order they came) is kept.
    const next = u.more?.entries().next();
    this.cache = undefined;
    if (next && !next.done) {
      const [o, n] = next.value;
      u.more!.delete(o);
      u.first = o;
      u.n = n;
      return false;
    }
    this.byName.delete(name);
    this.names_.delete(name);
    return true;
  }

  /** The object kept for a name. */
  get(name: string): T | undefined {
    return this.byName.get(name)?.first;
  }

  names(): readonly string[] {
    return this.names_.names;
  }

  /** One object per name, in name order: the same array while nothing changed (never mutated). */
  sorted(): readonly T[] {
    if (!this.cache) this.cache = this.names_.names.map((n) => this.byName.get(n)!.first);
    return this.cache;
  }
}

let builder = new ModelBuilder();

/** Builds the model with the process's builder: incremental from its last build. */
export function buildModel(store: StoreSnapshot, opts: ModelOptions): ModelBuild {
  return builder.build(store, opts);
}

/** Runs `fn` with a new builder in place of the process's (a from-scratch build, for benchmarks), then puts it back. */
export function withFreshModelBuilder<T>(fn: () => T): T {
  const saved = builder;
  builder = new ModelBuilder();
  try {
    return fn();
  } finally {
    builder = saved;
  }
}

/** Two lists as one: either one itself when the other is empty (lists are never mutated). */
function joined<T>(a: readonly T[], b: readonly T[] | undefined): readonly T[] {
  if (!b || b.length === 0) return a;
  return a.length === 0 ? b : a.concat(b);
}
