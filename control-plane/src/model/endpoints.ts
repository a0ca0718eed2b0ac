// Clusters + EndpointSlices → endpoints per cluster. Built apart from the rest of the
// model so that endpoint churn rebuilds only EDS.
//
// Incremental: the store keeps an unchanged object's identity and copies a kind's map only
// when that kind changed, and the model keeps unchanged Clusters. So the service → slices
// index is updated from the last one by what changed in the EndpointSlice map, and a
// cluster whose inputs are the last build's (the same cluster, the same slice list, the
// same pods for the endpoints that consulted one) keeps its ClusterEndpoints object. A
// recomputed cluster equal in content to the last build's also keeps the last object.
// Endpoint objects are never mutated once built.
import { isIP } from 'node:net';
import type { EndpointSlice, Pod } from '../sources/k8s-types.js';
import { SERVICE_NAME_LABEL } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { Cluster, ClusterEndpoints, Endpoint, EndpointModel } from './ir.js';
import { isPort } from './names.js';
import { sameData } from './same-data.js';
import { sortInPlace } from './small-sort.js';

type Slices = StoreSnapshot['endpointSlices'];
type Pods = StoreSnapshot['pods'];

export function buildEndpoints(clusters: readonly Cluster[], store: StoreSnapshot): EndpointModel {
  const index = sliceIndex(store);
  const pods = store.pods;
  const last = lastBuild;
  const podsSame = pods === last.pods;
  // The services whose slices changed since the last build (undefined: any may have).
  const changed = index.id === last.index ? NO_CHANGE : index.from === last.index ? index.changed : undefined;
  // Nothing changed since the last build: its result.
  if (clusters === last.clusters && changed === NO_CHANGE && (podsSame || podsStill(last, pods))) {
    lastBuild = { ...last, pods };
    return last.out;
  }
  // Per cluster, the entry and its output, in arrays of their own: a cluster reused from
  // the last build costs pointer comparisons, without reading its entry.
  const prev = last.clusters;
  const prevEntries = last.entries;
  const prevOuts = last.out.clusters;
  const entries = new Array<Entry>(clusters.length);
  const outs = new Array<ClusterEndpoints>(clusters.length);
  const podFlags = new Uint8Array(clusters.length);
  let same = clusters.length === prevOuts.length;
  let j = 0;
  for (let i = 0; i < clusters.length; i++) {
    const c = clusters[i]!;
    // The last build's entry for the same cluster object, found in order (one insertion,
    // removal or replacement costs nothing more), is valid unless its slices or pods changed.
    let k = j;
    const end = Math.min(prev.length, j + LOOKAHEAD);
    while (k < end && prev[k] !== c) k++;
    let e: Entry;
    let out: ClusterEndpoints;
    if (k < end) {
      j = k + 1;
      e = prevEntries[k]!;
      const slicesOk = changed === NO_CHANGE || (changed !== undefined && !changed.has(e.key));
      if (slicesOk && (podsSame || last.podFlags[k] === 0 || podsUnchanged(e.pods!, pods))) {
        out = prevOuts[k]!;
        podFlags[i] = last.podFlags[k]!;
      } else {
        e = revalidate(e, c, index, pods);
        out = e.out;
        podFlags[i] = e.pods ? 1 : 0;
      }
    } else {
      // Another cluster object (or one seen before the last build): by content.
      const known = byCluster.get(c) ?? sameCluster(byName.get(c.name), c);
      e = known ? revalidate(known, c, index, pods) : computeEntry(c, index, pods, undefined);
      out = e.out;
      podFlags[i] = e.pods ? 1 : 0;
    }
    entries[i] = e;
    outs[i] = out;
    if (same && out !== prevOuts[i]) same = false;
  }
  const result: EndpointModel = same ? last.out : { clusters: outs };
  lastBuild = { clusters, entries, podFlags, pods, index: index.id, out: result };
  if (byName.size > 2 * entries.length + 64) byName = new Map(entries.map((e) => [e.cluster.name, e]));
  return result;
}

/** Whether the pods the last build's entries consulted are the same objects in `pods`. */
function podsStill(last: LastBuild, pods: Pods): boolean {
  for (let i = 0; i < last.podFlags.length; i++) if (last.podFlags[i] && !podsUnchanged(last.entries[i]!.pods!, pods)) return false;
  return true;
}

/** How far ahead in the last build's list a cluster is looked for (clusters removed in between). */
const LOOKAHEAD = 8;

/** A cluster's endpoints and what they were computed from. Never mutated. */
interface Entry {
  readonly cluster: Cluster;
  /** `namespace/service`: the index key of its slices. */
  readonly key: string;
  readonly slices: readonly EndpointSlice[];
  /** The pods consulted (a readiness gate), with what the store held; undefined when none. */
  readonly pods: readonly PodRead[] | undefined;
  readonly out: ClusterEndpoints;
}

type PodRead = readonly [key: string, pod: Pod | undefined];

interface LastBuild {
  readonly clusters: readonly Cluster[];
  readonly entries: readonly Entry[];
  /** 1 for the entries that consulted pods. */
  readonly podFlags: Uint8Array;
  readonly pods: Pods | undefined;
  /** The id of the slice index the entries were checked against. */
  readonly index: number;
  /** Its clusters are the entries' outputs, in the same order. */
  readonly out: EndpointModel;
}

let lastBuild: LastBuild = { clusters: [], entries: [], podFlags: new Uint8Array(0), pods: undefined, index: -1, out: { clusters: [] } };
/** Entries by cluster object and by name (content fallback), for clusters not found in order. */
const byCluster = new WeakMap<Cluster, Entry>();
let byName = new Map<string, Entry>();

function sameCluster(e: Entry | undefined, c: Cluster): Entry | undefined {
  if (!e) return undefined;
  const d = e.cluster;
  return d === c || (d.name === c.name && d.namespace === c.namespace && d.service === c.service && d.portName === c.portName) ? e : undefined;
}

function podsUnchanged(reads: readonly PodRead[], pods: Pods): boolean {
  for (const [key, pod] of reads) if (pods.get(key) !== pod) return false;
  return true;
}

/** The entry for `c` now: `e` (computed for a cluster equal to `c`) if its inputs are unchanged, else a new one. */
function revalidate(e: Entry, c: Cluster, index: SliceIndex, pods: Pods): Entry {
  const slices = index.byService.get(e.key) ?? NO_SLICES;
  if (sameElements(e.slices, slices) && (!e.pods || podsUnchanged(e.pods, pods))) {
    if (e.cluster === c) return e;
    const moved: Entry = { ...e, cluster: c, slices };
    byCluster.set(c, moved);
    byName.set(c.name, moved);
    return moved;
  }
  return computeEntry(c, index, pods, e);
}

function computeEntry(c: Cluster, index: SliceIndex, pods: Pods, before: Entry | undefined): Entry {
  const key = serviceKey(c.namespace, c.service);
  const slices = index.byService.get(key) ?? NO_SLICES;
  const reads: PodRead[] = [];
  const endpoints = endpointsOf(c, slices, pods, reads);
  const out: ClusterEndpoints = before && before.out.cluster === c.name && sameData(before.out.endpoints, endpoints) ? before.out : { cluster: c.name, endpoints };
  const e: Entry = { cluster: c, key, slices, pods: reads.length ? reads : undefined, out };
  byCluster.set(c, e);
  byName.set(c.name, e);
  return e;
}

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- service → slices index ----

const NO_SLICES: readonly EndpointSlice[] = [];

interface SliceIndex {
  readonly id: number;
  /** The store map it was built from. */
  readonly slices: Slices;
  /** Service key → its slices, in store order. A list is replaced, never mutated, when it changes. */
  readonly byService: Map<string, readonly EndpointSlice[]>;
  /** The service keys whose lists differ from those of index `from`; undefined when any may. */
  readonly changed: ReadonlySet<string> | undefined;
  readonly from: number;
  /** The number of the latest store snapshot whose map is `slices` (to ask the store what changed since). */
  seq: number | undefined;
}

let indexIds = 0;
let lastIndex: SliceIndex = { id: indexIds++, slices: new Map(), byService: new Map(), changed: undefined, from: -1, seq: undefined };

/** Forgets the last build's endpoints and slice index (for benchmarks of a from-scratch build; see pipeline's fromScratch). */
export function resetEndpoints(): void {
  lastBuild = { clusters: [], entries: [], podFlags: new Uint8Array(0), pods: undefined, index: -1, out: { clusters: [] } };
  byName = new Map();
  lastIndex = { id: indexIds++, slices: new Map(), byService: new Map(), changed: undefined, from: -1, seq: undefined };
}
const NO_CHANGE: ReadonlySet<string> = new Set();

/** Beyond this many changed services, the index is rebuilt from scratch. */
const INCREMENTAL_LIMIT = 256;

function serviceKey(namespace: string | undefined, service: string): string {
  return `${namespace}/${service}`;
}

function serviceOf(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return typeof svc === 'string' ? svc : undefined;
}

function sliceIndex(store: StoreSnapshot): SliceIndex {
  const slices = store.endpointSlices;
  if (slices !== lastIndex.slices) {
    // The keys of the slices changed since the last index, when the store can tell (else the maps are compared).
    const keys = lastIndex.seq !== undefined ? store.changesSince?.(lastIndex.seq)?.endpointSlices : undefined;
    lastIndex = (keys instanceof Set ? indexFromKeys(lastIndex, slices, keys) : updatedIndex(lastIndex, slices)) ?? fullIndex(slices);
  }
  lastIndex.seq = store.seq;
  return lastIndex;
}

function fullIndex(slices: Slices): SliceIndex {
  const byService = new Map<string, EndpointSlice[]>();
  for (const slice of slices.values()) {
    const svc = serviceOf(slice);
    if (svc === undefined) continue;
    const key = serviceKey(slice.metadata.namespace, svc);
    let list = byService.get(key);
    if (!list) byService.set(key, (list = []));
    list.push(slice);
  }
  return { id: indexIds++, slices, byService, changed: undefined, from: -1, seq: undefined };
}

/**
 * The last index brought up to date with `slices`, given the keys of the slices added,
 * changed or removed since (O(changes), not a pass over every slice): the lists of their
 * services lose the old objects and gain the new ones (order within a list does not
 * matter: endpointsOf sorts slices by name). Undefined when too much changed.
 */
function indexFromKeys(last: SliceIndex, slices: Slices, keys: ReadonlySet<string>): SliceIndex | undefined {
  const old = last.slices;
  const changed = new Set<string>();
  const gone = new Set<EndpointSlice>();
  const added = new Map<string, EndpointSlice[]>();
  const serviceKeyOf = (s: EndpointSlice): string | undefined => {
    const svc = serviceOf(s);
    return svc === undefined ? undefined : serviceKey(s.metadata.namespace, svc);
  };
  for (const key of keys) {
    const o = old.get(key);
    const s = slices.get(key);
    if (o === s) continue;
    const ok = o && serviceKeyOf(o);
    if (ok) {
      changed.add(ok);
      gone.add(o);
    }
    const sk = s && serviceKeyOf(s);
    if (sk) {
      changed.add(sk);
      let list = added.get(sk);
      if (!list) added.set(sk, (list = []));
      list.push(s);
    }
    if (changed.size > INCREMENTAL_LIMIT) return undefined;
  }
  const byService = last.byService;
  for (const key of changed) {
    const list = [...(byService.get(key) ?? NO_SLICES).filter((x) => !gone.has(x)), ...(added.get(key) ?? NO_SLICES)];
    if (list.length) byService.set(key, list);
    else byService.delete(key);
  }
  return { id: indexIds++, slices, byService, changed, from: last.id, seq: undefined };
}

/**
 * The last index brought up to date with `slices` (undefined when too much changed): the
 * services of changed, added and removed slices get their lists rebuilt in store order.
 * The last index's map is updated in place (the last index is dropped: only its id is kept).
 */
function updatedIndex(last: SliceIndex, slices: Slices): SliceIndex | undefined {
  const old = last.slices;
  const changed = new Set<string>();
  const names = new Set<string>();
  const mark = (s: EndpointSlice) => {
    const svc = serviceOf(s);
    if (svc === undefined) return;
    names.add(svc);
    changed.add(serviceKey(s.metadata.namespace, svc));
  };
  let added = 0;
  for (const [key, s] of slices) {
    const o = old.get(key);
    if (o === s) continue;
    if (o) mark(o);
    else added++;
    mark(s);
    if (changed.size > INCREMENTAL_LIMIT) return undefined;
  }
  if (old.size + added !== slices.size) {
    for (const [key, o] of old) {
      if (slices.has(key)) continue;
      mark(o);
      if (changed.size > INCREMENTAL_LIMIT) return undefined;
    }
  }
  const lists = new Map<string, EndpointSlice[]>();
  if (changed.size) {
    for (const s of slices.values()) {
      const svc = serviceOf(s);
      if (svc === undefined || !names.has(svc)) continue;
      const key = serviceKey(s.metadata.namespace, svc);
      if (!changed.has(key)) continue;
      let list = lists.get(key);
      if (!list) lists.set(key, (list = []));
      list.push(s);
    }
  }
  const byService = last.byService;
  for (const key of changed) {
    const list = lists.get(key);
    if (list) byService.set(key, list);
    else byService.delete(key);
  }
  return { id: indexIds++, slices, byService, changed, from: last.id, seq: undefined };
}

// ---- endpoints of one cluster ----

/** The readiness gate condition xgate sets (status/readiness-gate.ts). */
export const OUR_READINESS_GATE = 'target-health.xgate.io';

/**
 * Kubernetes marks a pod whose readiness gate is still pending as not ready in its
 * EndpointSlice — but the gate waits for Envoy to have the pod's address. A pod that
 * declares our gate, whose containers are ready, is therefore routed to: that push is
 * what opens the gate. Each pod consulted is recorded in `reads`.
 */
function awaitsOurGate(ref: { kind?: string; name?: string } | undefined, namespace: string | undefined, pods: Pods, reads: PodRead[]): boolean {
  if (!ref || ref.kind !== 'Pod' || !ref.name) return false;
  const key = `${namespace}/${ref.name}`;
  const pod = pods.get(key);
  reads.push([key, pod]);
  if (!pod) return false;
  const gates = pod.spec?.readinessGates ?? [];
  if (!gates.some((g) => g.conditionType === OUR_READINESS_GATE)) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'ContainersReady' && c.status === 'True');
}

function endpointsOf(cluster: Cluster, slices: readonly EndpointSlice[], pods: Pods, reads: PodRead[]): Endpoint[] {
  const found = new Map<string, Endpoint>();
  // An address listed by two slices (a pod moving between them) takes the first slice by
  // name: the result must not depend on the order the store holds them in (a relist).
  for (const slice of slices.length > 1 ? sortInPlace([...slices], bySliceName) : slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const sp = portOf(slice, cluster.portName);
    if (!sp || !isPort(sp.port)) continue;
    for (const ep of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const c = ep.conditions ?? {};
      // Kubernetes: a nil ready means ready; a nil serving means the same as ready.
      const ready = c.ready !== false;
      const serving = c.serving === undefined || c.serving === null ? ready : c.serving;
      const terminating = c.terminating === true;
      let health: Endpoint['health'];
      if ((ready || awaitsOurGate(ep.targetRef, slice.metadata.namespace, pods, reads)) && !terminating) health = 'HEALTHY';
      else if (serving && terminating) health = 'DRAINING';
      else continue;
      for (const address of Array.isArray(ep.addresses) ? ep.addresses : []) {
        if (typeof address !== 'string' || isIP(address) === 0) continue;
        const key = `${address}\u0000${sp.port}`;
        const prev = found.get(key);
        if (prev && prev.health === 'HEALTHY') continue;
        found.set(key, typeof ep.zone === 'string' ? { address, port: sp.port, health, zone: ep.zone } : { address, port: sp.port, health });
      }
    }
  }
  const out = [...found.values()];
  return out.length > 1 ? sortInPlace(out, byAddress) : out;
}

function byAddress(a: Endpoint, b: Endpoint): number {
  return a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port;
}

/** The slice's port of that name ('' for the unnamed one), as `find` would give it, without a closure per call. */
function portOf(slice: EndpointSlice, name: string): NonNullable<EndpointSlice['ports']>[number] | undefined {
  const ports = slice.ports;
  if (!Array.isArray(ports)) return undefined;
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i]!;
    if ((p.name ?? '') === name) return p;
  }
  return undefined;
}

function bySliceName(a: EndpointSlice, b: EndpointSlice): number {
  const x = a.metadata.name;
  const y = b.metadata.name;
  return x < y ? -1 : x > y ? 1 : 0;
}

export type { ClusterEndpoints };
