// Model → Envoy resources per node group. The only place that knows Envoy.
import type { Cluster, ClusterEndpoints, EndpointModel, Model, ModelChanges, TlsHost, TlsSecret, VirtualHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { ENVOY_GROUP, GRPC_GROUP } from '../xds/cache/memory-cache.js';
import { proxylessCluster, translateCluster } from './cluster.js';
import { translateEndpoints } from './endpoint.js';
import { HTTP_ROUTE_CONFIG, apiListener, httpListener, httpsListeners, httpsRouteConfigName, routeShards } from './listener.js';
import { ROUTE_SHARD_HEADER, ShardSplit, routeShardName, routeShardOf, shardScopes } from './route-shards.js';
import type { TranslateOptions } from './options.js';
import { resourceName, type EnvoyResources, type GroupResources } from './resources.js';
import { proxylessRouteConfiguration, startRouteBatch, translateRouteConfiguration, translateVirtualHost } from './route.js';
import { translateSecret } from './secret.js';
import { contributedResources, resetContributions } from './contributions.js';
import { sameData } from '../model/same-data.js';
import { chainRbacEnforces, RBAC_FILTER } from './access/rbac.js';
import { setNoOpChainFilters } from './hoist-filter-configs.js';
import { fullVirtualHost, plainHttpView } from './plain-http.js';

/**
 * Forgets everything translation remembers from earlier builds (its memos by object, by
 * name and content, and the last lists): the next translate() makes every resource anew,
 * as the first one in a process does. For benchmarks of a from-scratch build; the
 * Controller never needs it.
 */
export function resetTranslation(): void {
  for (const memo of ListMemo.all) memo.reset();
  for (const memo of memos) memo.reset();
  lastHttpRoutes = undefined;
  lastProxylessRoutes = undefined;
  lastProxylessShards = undefined;
  lastTls = noTlsRows();
  shardSplit = newShardSplit();
  resetContributions();
}

/** Whether the plain-HTTP route configurations hold the plain-HTTP views of the virtual hosts (set by translate()). */
let plainViews = true;

const NO_FILTERS: ReadonlySet<string> = new Set();
const RBAC_ONLY: ReadonlySet<string> = new Set([RBAC_FILTER]);

/** Every node group translation makes: Envoy proxies and proxyless gRPC clients. */
export const ALL_GROUPS: ReadonlySet<string> = new Set([ENVOY_GROUP, GRPC_GROUP]);

/**
 * The resources of each group in `groups` (default: all). The "envoy" group is always
 * made (the others share its clusters and virtual hosts); the Controller asks for "grpc"
 * only once a proxyless client has connected, so installs without one never pay for it.
 * `changes` (from the model builder) says where the model differs from an earlier one,
 * when known: the lists derived from that one are patched there instead of compared.
 */
export function translate(model: Model, endpoints: EndpointModel, opts: TranslateOptions, groups: ReadonlySet<string> = ALL_GROUPS, changes?: ModelChanges): GroupResources {
  // Virtual hosts are memoised without options: the options they depend on (whether the
  // chain's RBAC enforces gateway-wide ranges, hoist-filter-configs.ts; whether Envoy
  // trusts proxies in front, plain-http.ts) make translation start over when they change
  // (never in a Controller: options are fixed).
  const noOp = setNoOpChainFilters(chainRbacEnforces(opts) ? NO_FILTERS : RBAC_ONLY);
  // The plain-HTTP listener's views of the virtual hosts (plain-http.ts) hold while Envoy trusts no proxy in front.
  const plain = (opts.trustedHops ?? 0) === 0;
  if (noOp || plain !== plainViews) {
    plainViews = plain;
    resetTranslation();
  }
  startRouteBatch();
  const clusters = clusterList.map(model.clusters, clusterReuse.get);
  clusterReuse.prune(model.clusters, clusters);
  const cla = translateGroupEndpoints(endpoints, groups);
  const lastModelHosts = vhostList.lastInputs();
  const lastVhosts = vhostList.last();
  const told = changes?.virtualHosts;
  const vhosts = told && told.from === lastModelHosts ? vhostList.patch(model.virtualHosts, told.at, vhostReuse.get) : vhostList.map(model.virtualHosts, vhostReuse.get);
  vhostReuse.prune(model.virtualHosts, vhosts);
  // Where the virtual host list changed in place: the lists derived from it element by element are patched there.
  const replaced = vhostList.changes().replaced;
  const lastHttpVhosts = plainViews ? plainVhostList.last() : lastVhosts;
  const httpVhosts = plainViews ? (replaced && plainVhostList.lastInputs() === lastVhosts ? plainVhostList.patch(vhosts, replaced, plainHttpView) : plainVhostList.map(vhosts, plainHttpView)) : vhosts;
  const httpRoutes = httpRouteConfigurations(httpVhosts, routeShards(opts), replaced && lastHttpVhosts);
  // The hosts whose virtual host changed since the TLS rows were last made (all, if they were not made from the last list).
  const changedHosts = lastTls.vhostCalls === vhostList.calls - 1 ? changedHostsOf(vhostList.changes()) : undefined;
  const tls = tlsRows(model.tlsHosts, changedHosts, model.virtualHosts, vhosts, vhostList.calls);

  const hostChanges = vhostList.changes();
  const extra = contributedResources(model, opts, { prev: lastModelHosts, added: hostChanges.missed, removed: hostChanges.dropped, ...(replaced ? { replaced } : {}) });
  // Each HTTPS filter chain serves one host's route configuration: its connection manager
  // leaves out the filters listed `disabled: true` that no route of that host enables
  // (one ext_authz or oauth2 instance per auth service would otherwise be repeated in
  // every chain). What each host enables is part of the listener memo's input.
  // Contributed clusters and secrets are built afresh by their contributors: keep the last build's object when equal.
  const extraClusters = extraClusterList.map(extra.clusters, extraClusterReuse.get);
  extraClusterReuse.prune(extra.clusters, extraClusters);
  const extraSecrets = extraSecretList.map(extra.secrets, extraSecretReuse.get);
  extraSecretReuse.prune(extra.secrets, extraSecrets);

  const http = listenerMemo.get('http', [opts, extra.httpFilters], sameData, () => httpListener(opts, extra.httpFilters));
  listenerMemo.rotate();
  const https = httpsListenersMemo.get('https', [tls.hosts, opts, extra.httpFilters, tls.enabled], sameData, () => {
    const enabled = new Map<string, readonly string[]>(tls.hosts.map((t, i) => [t.host, tls.enabled[i]!]));
    return httpsListeners(tls.hosts, opts, (host) => chainFilters(extra.httpFilters, enabled.get(host)!));
  });
  httpsListenersMemo.rotate();
  const secrets = secretList.map(model.secrets, secretReuse.get);
  secretReuse.prune(model.secrets, secrets);
  const envoy: EnvoyResources = {
    listeners: envoyListeners.of([http], https),
    routes: envoyRoutes.of(httpRoutes, tls.routes),
    ...(routeShards(opts) > 1 ? { scopedRoutes: shardScopes(routeShards(opts)) } : {}),
    clusters: envoyClusters.of(clusters, extraClusters),
    endpoints: cla[ENVOY_GROUP]!,
    secrets: envoySecrets.of(secrets, extraSecrets),
  };
  if (!groups.has(GRPC_GROUP)) {
    for (const memo of ListMemo.all) memo.release();
    return { [ENVOY_GROUP]: envoy };
  }
  const grpc: EnvoyResources = {
    listeners: apiListeners.of(apiListenersOf(model.virtualHosts, lastModelHosts, replaced, routeShards(opts))),
    routes: routeShards(opts) > 1 ? proxylessShards() : grpcRoutes.of([proxylessRouteConfigurationOf(HTTP_ROUTE_CONFIGURATION, vhosts, lastVhosts, replaced)], NO_RESOURCES),
    clusters: proxylessClusterList.map(clusters, proxylessClusterOf),
    endpoints: cla[GRPC_GROUP]!,
    secrets: NO_RESOURCES,
  };
  for (const memo of ListMemo.all) memo.release();
  return { [ENVOY_GROUP]: envoy, [GRPC_GROUP]: grpc };
}

/** The API listener of each virtual host (null for a wildcard), patched where the host list changed in place since `lastHosts`. */
function apiListenersOf(hosts: readonly VirtualHost[], lastHosts: readonly VirtualHost[], replaced: readonly number[] | undefined, shards: number): readonly (JsonObject | null)[] {
  if (shards !== apiShards) {
    // Each API listener names its host's route configuration: another shard count, other names.
    apiShards = shards;
    apiListenerReuse = newApiListenerReuse(shards);
    const at = ListMemo.all.indexOf(apiListenerList as ListMemo<unknown, unknown>);
    if (at >= 0) ListMemo.all.splice(at, 1);
    apiListenerList = new ListMemo<VirtualHost, JsonObject | null>();
  }
  if (replaced && apiListenerList.lastInputs() === lastHosts) return apiListenerList.patch(hosts, replaced, apiListenerReuse.get);
  const out = apiListenerList.map(hosts, apiListenerReuse.get);
  apiListenerReuse.prune(hosts, out);
  return out;
}

/** The Envoy-shaped ClusterLoadAssignments (group "envoy"). */
export function translateEndpointModel(endpoints: EndpointModel): readonly JsonObject[] {
  const out = endpointList.map(endpoints.clusters, endpointReuse.get);
  endpointReuse.prune(endpoints.clusters, out);
  return out;
}

/**
 * The ClusterLoadAssignments of every group. An endpoints-only rebuild must use this
 * too: the "grpc" group's differ from Envoy's (see proxylessEndpoints).
 */
export function translateGroupEndpoints(endpoints: EndpointModel, groups: ReadonlySet<string> = ALL_GROUPS): Record<string, readonly JsonObject[]> {
  const cla = translateEndpointModel(endpoints);
  if (!groups.has(GRPC_GROUP)) return { [ENVOY_GROUP]: cla };
  return { [ENVOY_GROUP]: cla, [GRPC_GROUP]: proxylessEndpointList.map(cla, proxylessOf) };
}

// ---- reuse of the previous translation's objects ----
//
// Translation is pure, and the model keeps the objects it did not change from build to
// build (the arrays holding them are new). Each list below is mapped element by element
// against the last build's (ListMemo): an element that is the same object as last time,
// in the same order, takes its last output with a pointer comparison, and a list whose
// outputs are all the same objects gives the last output array itself. Other elements go
// to a Reuse: by resource name, then by object or content (the last input of that name,
// or a new one equal to it, gives back the last output). The same object
// downstream means O(1) work per unchanged resource: the consistency check and the
// snapshot encoder memoise by object, and compare lists by their elements. Outputs are
// never mutated once built.

/** How far ahead in the last list an element is looked for (elements removed in between). */
const LOOKAHEAD = 8;

/** Every memo below, so resetTranslation() can empty them all. */
const memos: { reset(): void }[] = [];

/** Maps lists element by element, reusing the last call's outputs for the same elements. */
class ListMemo<I, O> {
  /** Every ListMemo, so translate() can drop the change lists it no longer needs (see release). */
  static readonly all: ListMemo<unknown, unknown>[] = [];
  constructor() {
    ListMemo.all.push(this as ListMemo<unknown, unknown>);
  }

  /** Forgets every list and output (the next call maps every element). */
  reset(): void {
    this.inputs = [];
    this.outputs = [];
    this.missed = [];
    this.dropped = [];
    this.replaced = [];
  }
  private inputs: readonly I[] = [];
  private outputs: readonly O[] = [];
  /** The elements of the last call's list not found in the list before, and those of the list before not found. */
  private missed: I[] = [];
  private dropped: I[] = [];
  /** When the last call's list differed from the one before only in place (same length, nothing moved): where. */
  private replaced: number[] | undefined = [];
  /** Calls that returned. */
  calls = 0;

  map(next: readonly I[], one: (x: I) => O): readonly O[] {
    const prev = this.inputs;
    const prevOut = this.outputs;
    this.missed = [];
    this.dropped = [];
    this.replaced = [];
    // Lists (model arrays, translated lists) are never mutated once built.
    if (next === prev) {
      this.calls++;
      return prevOut;
    }
    let inPlace = next.length === prev.length;
    const replaced: number[] = [];
    // Made at the first output that differs from the last list's at the same place.
    let out: O[] | undefined = next.length === prev.length ? undefined : new Array<O>(next.length);
    let j = 0;
    for (let i = 0; i < next.length; i++) {
      const x = next[i]!;
      let k = j;
      const end = Math.min(prev.length, j + LOOKAHEAD);
      while (k < end && prev[k] !== x) k++;
      let o: O;
      if (k < end) {
        for (let s = j; s < k; s++) this.dropped.push(prev[s]!);
        if (k !== i) inPlace = false;
        o = prevOut[k]!;
        j = k + 1;
      } else {
        this.missed.push(x);
        replaced.push(i);
        o = one(x);
      }
      if (out) out[i] = o;
      else if (o !== prevOut[i]) {
        out = new Array<O>(next.length);
        for (let s = 0; s < i; s++) out[s] = prevOut[s]!;
        out[i] = o;
      }
    }
    for (let s = j; s < prev.length; s++) this.dropped.push(prev[s]!);
    this.inputs = next;
    this.replaced = inPlace ? replaced : undefined;
    this.calls++;
    if (!out) return prevOut;
    this.outputs = out;
    return out;
  }

  /**
   * map() for a list the caller knows differs from the last inputs only at `indices` (the
   * same length): the other outputs are taken as they are, without a comparison.
   */
  patch(next: readonly I[], indices: readonly number[], one: (x: I) => O): readonly O[] {
    const prev = this.inputs;
    const prevOut = this.outputs;
    let out: O[] | undefined;
    const missed: I[] = [];
    const dropped: I[] = [];
    for (const i of indices) {
      const x = next[i]!;
      if (x === prev[i]) continue;
      missed.push(x);
      dropped.push(prev[i]!);
      const o = one(x);
      if (o === prevOut[i]) continue;
      out ??= prevOut.slice();
      out[i] = o;
    }
    this.inputs = next;
    this.missed = missed;
    this.dropped = dropped;
    this.replaced = [...indices];
    this.calls++;
    if (!out) return prevOut;
    this.outputs = out;
    return out;
  }

  /**
   * Forgets the elements of the last change (changes() then reports none missed or
   * dropped): the dropped ones would otherwise keep the last build's objects, and all
   * that hangs off them in memos, alive until the next change (after scaling 10,000
   * Ingresses down to 10: ~300 MiB).
   */
  release(): void {
    this.missed = [];
    this.dropped = [];
  }

  /** The inputs of the last call. */
  lastInputs(): readonly I[] {
    return this.inputs;
  }

  /** The outputs of the last call. */
  last(): readonly O[] {
    return this.outputs;
  }

  /**
   * What differed in the last call's list from the one before: the elements not found in
   * the list before and those of the list before not found (both empty when nothing did),
   * and, when the list only changed in place (same length, nothing moved), the indices of
   * the elements that did.
   */
  changes(): { readonly missed: readonly I[]; readonly dropped: readonly I[]; readonly replaced: readonly number[] | undefined } {
    return { missed: this.missed, dropped: this.dropped, replaced: this.replaced };
  }
}

/** Per key, then by object or content: the output of an input equal to the last one translated under its key. */
class Reuse<I extends object, O> {
  private byKey = new Map<string, { readonly input: I; readonly output: O }>();

  constructor(
    private readonly key: (input: I) => string,
    private readonly same: (a: I, b: I) => boolean,
    private readonly make: (input: I) => O,
  ) {
    memos.push(this);
  }

  reset(): void {
    this.byKey = new Map();
  }

  readonly get = (input: I): O => {
    const k = this.key(input);
    const hit = this.byKey.get(k);
    // The same input object: its entry as it is (same() is not asked).
    if (hit !== undefined && hit.input === input) return hit.output;
    const out = hit !== undefined && this.same(hit.input, input) ? hit.output : this.make(input);
    this.byKey.set(k, { input, output: out });
    return out;
  };

  /** Drops the keyed entries of inputs no longer translated, once there are many (`outputs` are those of `inputs`). */
  prune(inputs: readonly I[], outputs: readonly O[]): void {
    if (this.byKey.size <= 2 * inputs.length + 64) return;
    this.byKey = new Map(inputs.map((input, i) => [this.key(input), { input, output: outputs[i]! }]));
  }
}

/** The concatenation of two lists; the last one's array when its elements are the same. */
class Concat<T> {
  private a: readonly T[] = [];
  private b: readonly T[] = [];
  private out: readonly T[] = [];

  constructor() {
    memos.push(this);
  }

  reset(): void {
    this.a = this.b = this.out = [];
  }

  of(a: readonly T[], b: readonly T[]): readonly T[] {
    if (a === this.a && b === this.b) return this.out;
    const out = b.length === 0 ? a : a.length === 0 ? b : [...a, ...b];
    this.a = a;
    this.b = b;
    if (!sameElements(out, this.out)) this.out = out;
    return this.out;
  }
}

/** A list without its nulls; the last one's array when its elements are the same. */
class Compact<T> {
  private input: readonly (T | null)[] = [];
  private out: readonly T[] = [];

  constructor() {
    memos.push(this);
  }

  reset(): void {
    this.input = [];
    this.out = [];
  }

  of(input: readonly (T | null)[]): readonly T[] {
    if (input === this.input) return this.out;
    this.input = input;
    const out: T[] = [];
    for (const x of input) if (x !== null) out.push(x);
    if (!sameElements(out, this.out)) this.out = out;
    return this.out;
  }
}

const NO_RESOURCES: readonly JsonObject[] = [];
const byName = (x: { readonly name: string }) => x.name;

const clusterReuse = new Reuse<Cluster, JsonObject>(byName, sameData, translateCluster);
const clusterList = new ListMemo<Cluster, JsonObject>();
const endpointReuse = new Reuse<ClusterEndpoints, JsonObject>((ce) => ce.cluster, sameData, translateEndpoints);
const endpointList = new ListMemo<ClusterEndpoints, JsonObject>();
const secretReuse = new Reuse<TlsSecret, JsonObject>(byName, sameData, translateSecret);
const secretList = new ListMemo<TlsSecret, JsonObject>();
const vhostReuse = new Reuse<VirtualHost, JsonObject>((v) => v.host, sameData, translateVirtualHost);
const vhostList = new ListMemo<VirtualHost, JsonObject>();
/** The plain-HTTP listener's views of the translated virtual hosts (plain-http.ts). */
const plainVhostList = new ListMemo<JsonObject, JsonObject>();
const extraClusterReuse = new Reuse<JsonObject, JsonObject>(resourceName, sameData, (x) => x);
const extraClusterList = new ListMemo<JsonObject, JsonObject>();
const extraSecretReuse = new Reuse<JsonObject, JsonObject>(resourceName, sameData, (x) => x);
const extraSecretList = new ListMemo<JsonObject, JsonObject>();
/** Proxyless gRPC clients dial `xds:///<host>`: an API listener per host that is not a wildcard. */
/** With route shards, a proxyless client's listener names its host's shard (`http/<i>`, in the grpc group too); else `http`. */
function newApiListenerReuse(shards: number): Reuse<VirtualHost, JsonObject | null> {
  const routeName = (host: string) => (shards > 1 ? routeShardName(routeShardOf(host, shards)!) : HTTP_ROUTE_CONFIG);
  return new Reuse<VirtualHost, JsonObject | null>((v) => v.host, (a, b) => a.host === b.host, (v) => (v.host.includes('*') ? null : apiListener(v.host, routeName(v.host))));
}
let apiShards = 1;
let apiListenerReuse = newApiListenerReuse(1);
let apiListenerList = new ListMemo<VirtualHost, JsonObject | null>();
const apiListeners = new Compact<JsonObject>();
const proxylessClusterList = new ListMemo<JsonObject, JsonObject>();
const proxylessEndpointList = new ListMemo<JsonObject, JsonObject>();
const proxylessVhostList = new ListMemo<JsonObject, JsonObject>();
const envoyListeners = new Concat<JsonObject>();
const envoyRoutes = new Concat<JsonObject>();
const envoyClusters = new Concat<JsonObject>();
const envoySecrets = new Concat<JsonObject>();
const grpcRoutes = new Concat<JsonObject>();

class ReuseMemo<I, O> {
  private prev = new Map<string, { readonly input: I; readonly output: O }>();
  private next = new Map<string, { readonly input: I; readonly output: O }>();

  constructor() {
    memos.push(this);
  }

  reset(): void {
    this.prev = new Map();
    this.next = new Map();
  }

  get(key: string, input: I, same: (a: I, b: I) => boolean, make: (input: I) => O): O {
    const hit = this.next.get(key) ?? this.prev.get(key);
    if (hit && same(hit.input, input)) {
      // Kept with this input: the next call compares with it (the same arrays, mostly), not deeply with an older equal one.
      this.next.set(key, hit.input === input ? hit : { input, output: hit.output });
      return hit.output;
    }
    const output = make(input);
    this.next.set(key, { input, output });
    return output;
  }

  /** Ends a translation: what it did not use is dropped. */
  rotate(): void {
    this.prev = this.next;
    this.next = new Map();
  }
}

const listenerMemo = new ReuseMemo<readonly unknown[], JsonObject>();
const httpsListenersMemo = new ReuseMemo<readonly unknown[], readonly JsonObject[]>();

// ---- route configurations ----

/** The route configuration(s) of the plain HTTP listener, by the list of translated virtual hosts and the shard count. */
let lastHttpRoutes: { readonly vhosts: readonly JsonObject[]; readonly shards: number; readonly lists: readonly (readonly JsonObject[])[]; readonly rcs: readonly JsonObject[] } | undefined;

/** The non-host fields of the `http` route configuration (what proxyless clients get too). */
const HTTP_ROUTE_CONFIGURATION = translateRouteConfiguration(HTTP_ROUTE_CONFIG, []);

/** Translated virtual hosts (sorted by host, as the model keeps them) split by route shard. */
let shardSplit = newShardSplit();

function newShardSplit(): ShardSplit<JsonObject> {
  return new ShardSplit<JsonObject>((vh) => String(vh['name']));
}

/**
 * One route configuration `http` with every virtual host, or, with route shards, one per
 * shard (translate/route-shards.ts): a shard whose host list is the same array as last
 * time keeps its route configuration object.
 */
function httpRouteConfigurations(vhosts: readonly JsonObject[], shards: number, replacedFrom: readonly JsonObject[] | undefined): readonly JsonObject[] {
  const last = lastHttpRoutes;
  if (last?.vhosts === vhosts && last.shards === shards) return last.rcs;
  if (shards === 1) {
    const rcs = [withVirtualHosts(HTTP_ROUTE_CONFIG, vhosts)];
    lastHttpRoutes = { vhosts, shards, lists: [vhosts], rcs };
    return rcs;
  }
  // The translated list differs from `replacedFrom` only at the indices vhostList reports (same length).
  const lists = shardSplit.split(vhosts, shards, replacedFrom ? { from: replacedFrom, at: vhostList.changes().replaced ?? [] } : undefined);
  const same = last?.shards === shards ? last : undefined;
  let changed = !same;
  const rcs = lists.map((list, i) => {
    if (same && same.lists[i] === list) return same.rcs[i]!;
    changed = true;
    return { ...withVirtualHosts(routeShardName(i), list), request_headers_to_remove: [ROUTE_SHARD_HEADER] };
  });
  lastHttpRoutes = { vhosts, shards, lists, rcs: changed ? rcs : same!.rcs };
  return lastHttpRoutes.rcs;
}

/**
 * translateRouteConfiguration(name, hosts) with `vhosts` (the translated hosts, memoised
 * here) as its virtual_hosts: the same object shape, without translating the hosts again.
 */
function withVirtualHosts(name: string, vhosts: readonly JsonObject[]): JsonObject {
  return { ...translateRouteConfiguration(name, []), virtual_hosts: vhosts as JsonObject[] };
}

/** The HTTPS route configuration of one TLS host: its virtual host alone (memoised per translated virtual host). */
const httpsRoutes = new WeakMap<JsonObject, JsonObject>();

function httpsRouteConfiguration(vhost: JsonObject): JsonObject {
  let rc = httpsRoutes.get(vhost);
  if (!rc) httpsRoutes.set(vhost, (rc = withVirtualHosts(httpsRouteConfigName(String(vhost['name'])), [vhost])));
  return rc;
}

/** The route configuration proxyless gRPC clients can take (see proxylessRouteConfiguration), virtual host by virtual host. */
let lastProxylessRoutes: { readonly http: JsonObject; readonly vhosts: readonly JsonObject[]; readonly rc: JsonObject } | undefined;

function proxylessRouteConfigurationOf(http: JsonObject, vhosts: readonly JsonObject[], lastVhosts: readonly JsonObject[], replaced: readonly number[] | undefined): JsonObject {
  // Patched where the virtual hosts changed in place since `lastVhosts`.
  const out = replaced && proxylessVhostList.lastInputs() === lastVhosts ? proxylessVhostList.patch(vhosts, replaced, proxylessVirtualHost) : proxylessVhostList.map(vhosts, proxylessVirtualHost);
  if (lastProxylessRoutes && lastProxylessRoutes.vhosts === out && lastProxylessRoutes.http === http) return lastProxylessRoutes.rc;
  const rc = { ...proxylessRouteConfiguration({ ...http, virtual_hosts: [] }), virtual_hosts: out as JsonObject[] };
  lastProxylessRoutes = { http, vhosts: out, rc };
  return rc;
}

/** With route shards: each shard's route configuration as proxyless clients take it (same names as Envoy's), kept per shard list. */
let lastProxylessShards: { readonly lists: readonly (readonly JsonObject[])[]; readonly rcs: readonly JsonObject[] } | undefined;

function proxylessShards(): readonly JsonObject[] {
  const lists = lastHttpRoutes!.lists;
  const last = lastProxylessShards;
  if (last?.lists === lists) return last.rcs;
  const same = last?.lists.length === lists.length ? last : undefined;
  let changed = !same;
  const rcs = lists.map((list, i) => {
    if (same && same.lists[i] === list) return same.rcs[i]!;
    changed = true;
    return { ...proxylessRouteConfiguration({ ...HTTP_ROUTE_CONFIGURATION, name: routeShardName(i), virtual_hosts: [] }), virtual_hosts: list.map((v) => proxylessVirtualHost(fullVirtualHost(v))) };
  });
  lastProxylessShards = { lists, rcs: changed ? rcs : same!.rcs };
  return lastProxylessShards.rcs;
}

/** One virtual host as proxyless clients get it (proxylessRouteConfiguration memoises it per virtual host object). */
function proxylessVirtualHost(vh: JsonObject): JsonObject {
  return (proxylessRouteConfiguration({ virtual_hosts: [vh] })['virtual_hosts'] as JsonObject[])[0]!;
}

// ---- TLS hosts ----

/** A TLS host served (it has a virtual host), its HTTPS route configuration and the filters that enables. */
interface TlsRow {
  readonly host: TlsHost;
  readonly vhost: JsonObject;
  readonly routes: JsonObject;
  readonly enabled: readonly string[];
}

interface TlsRows {
  /** The TLS hosts that have a virtual host, in model order. */
  readonly hosts: readonly TlsHost[];
  readonly routes: readonly JsonObject[];
  readonly enabled: readonly (readonly string[])[];
}

let lastTls: {
  readonly tlsHosts: readonly TlsHost[];
  /** Whether tlsHosts is sorted by host. */
  readonly sorted: boolean;
  readonly rows: readonly (TlsRow | null)[];
  readonly out: TlsRows;
  readonly vhostCalls: number;
  /** Per row: its index in `out`'s lists (-1: not served); made when first needed. */
  servedAt?: Int32Array;
} = noTlsRows();

function noTlsRows(): typeof lastTls {
  return { tlsHosts: [], sorted: true, rows: [], out: { hosts: [], routes: [], enabled: [] }, vhostCalls: -1 };
}

/**
 * The TLS hosts joined with their translated virtual hosts. A TLS host that is the same
 * object as in the last build (found in order) keeps its last row, unless its host is among
 * `changedHosts` (the hosts whose virtual host changed; undefined: any may have): those are
 * found by a binary search (TLS hosts are sorted by host; checked as the list changes), and
 * look their virtual host up in `model` (sorted by host too; else by a map).
 * `vhostCalls` identifies the virtual host list `changedHosts` is relative to.
 */
function tlsRows(tlsHosts: readonly TlsHost[], changedHosts: ReadonlySet<string> | undefined, model: readonly VirtualHost[], vhosts: readonly JsonObject[], vhostCalls: number): TlsRows {
  const last = lastTls;
  if (tlsHosts === last.tlsHosts && changedHosts?.size === 0) {
    lastTls = { ...last, vhostCalls };
    return last.out;
  }
  let byHost: Map<string, number> | undefined;
  const vhostAt = (host: string): number => {
    const at = sortedIndexOf(model, host);
    if (at >= 0) return at;
    byHost ??= new Map(model.map((vh, n) => [vh.host, n]));
    return byHost.get(host) ?? -1;
  };
  const rowOf = (t: TlsHost, before: TlsRow | null | undefined): TlsRow | null => {
    const at = vhostAt(t.host);
    if (at < 0) return null;
    const vhost = vhosts[at]!;
    if (before && before.host === t && before.vhost === vhost) return before;
    const routes = httpsRouteConfiguration(vhost);
    return { host: t, vhost, routes, enabled: enabledFilters(routes) };
  };
  // The same TLS hosts, some of whose virtual hosts changed (the common change): only their rows are looked at.
  if (tlsHosts === last.tlsHosts && last.sorted && changedHosts) {
    const patched = patchedRows(last, changedHosts, rowOf);
    if (patched) {
      lastTls = { ...patched, vhostCalls };
      return patched.out;
    }
  }
  // The same TLS hosts keep their rows; the others get theirs.
  const prev = last.tlsHosts;
  const rows = new Array<TlsRow | null>(tlsHosts.length);
  const kept = new Uint8Array(tlsHosts.length);
  const missed: number[] = [];
  let j = 0;
  for (let i = 0; i < tlsHosts.length; i++) {
    const t = tlsHosts[i]!;
    let k = j;
    const end = Math.min(prev.length, j + LOOKAHEAD);
    while (k < end && prev[k] !== t) k++;
    if (k < end) {
      rows[i] = last.rows[k]!;
      kept[i] = 1;
      j = k + 1;
    } else missed.push(i);
  }
  // Kept hosts are in their last order; the list stays sorted if each new one is in order with its neighbours.
  let sorted = last.sorted || isSortedByHost(tlsHosts);
  for (const i of missed) {
    const h = tlsHosts[i]!.host;
    if ((i > 0 && !(tlsHosts[i - 1]!.host < h)) || (i + 1 < tlsHosts.length && !(h < tlsHosts[i + 1]!.host))) sorted = false;
    rows[i] = rowOf(tlsHosts[i]!, undefined);
  }
  // Kept hosts whose virtual host changed.
  if (changedHosts && sorted) {
    for (const h of changedHosts) {
      const i = sortedIndexOf(tlsHosts, h);
      if (i >= 0 && kept[i]) rows[i] = rowOf(tlsHosts[i]!, rows[i]);
    }
  } else {
    for (let i = 0; i < tlsHosts.length; i++) if (kept[i] && (!changedHosts || changedHosts.has(tlsHosts[i]!.host))) rows[i] = rowOf(tlsHosts[i]!, rows[i]);
  }
  let same = tlsHosts.length === last.rows.length;
  for (let i = 0; same && i < rows.length; i++) same = rows[i] === last.rows[i];
  let out = last.out;
  if (!same) {
    const served = rows.filter((r): r is TlsRow => r !== null);
    // A changed virtual host mostly leaves the hosts and their enabled filters as they
    // were: the last arrays are kept then, so the HTTPS listener's memo sees the same
    // arrays instead of comparing 3,400 entries deeply.
    const hosts = served.map((r) => r.host);
    const enabled = served.map((r) => r.enabled);
    out = {
      hosts: sameElements(hosts, last.out.hosts) ? last.out.hosts : hosts,
      routes: served.map((r) => r.routes),
      enabled: sameLists(enabled, last.out.enabled) ? last.out.enabled : enabled,
    };
  }
  lastTls = { tlsHosts, sorted, rows, out, vhostCalls };
  return out;
}

/**
 * The rows of `last` (the same TLS hosts, sorted) with those of `changedHosts` made again,
 * and its output lists patched where a row changed; undefined when a row went from served
 * to not served or back (the caller then makes every list again).
 */
function patchedRows(last: typeof lastTls, changedHosts: ReadonlySet<string>, rowOf: (t: TlsHost, before: TlsRow | null) => TlsRow | null): typeof lastTls | undefined {
  const tlsHosts = last.tlsHosts;
  let rows: (TlsRow | null)[] | undefined;
  const at: number[] = [];
  for (const h of changedHosts) {
    const i = sortedIndexOf(tlsHosts, h);
    if (i < 0) continue;
    const before = last.rows[i]!;
    const row = rowOf(tlsHosts[i]!, before);
    if (row === before) continue;
    if ((row === null) !== (before === null)) return undefined;
    rows ??= last.rows.slice();
    rows[i] = row;
    at.push(i);
  }
  if (!rows) return last;
  let servedAt = last.servedAt;
  if (!servedAt) {
    servedAt = new Int32Array(last.rows.length);
    let n = 0;
    for (let i = 0; i < last.rows.length; i++) servedAt[i] = last.rows[i] ? n++ : -1;
  }
  const routes = last.out.routes.slice();
  let enabled: (readonly string[])[] | undefined;
  for (const i of at) {
    const row = rows[i]!;
    const k = servedAt[i]!;
    routes[k] = row.routes;
    if (!sameLists([row.enabled], [last.out.enabled[k]!])) {
      enabled ??= last.out.enabled.slice();
      enabled[k] = row.enabled;
    }
  }
  return { ...last, rows, servedAt, out: { hosts: last.out.hosts, routes, enabled: enabled ?? last.out.enabled } };
}

/** Lists of strings equal element by element (the same arrays mostly: enabledFilters memoises per route configuration). */
function sameLists(a: readonly (readonly string[])[], b: readonly (readonly string[])[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

function isSortedByHost(list: readonly { readonly host: string }[]): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1]!.host < list[i]!.host)) return false;
  return true;
}

/** The index of the element of `list` (sorted by host) whose host is `host`; -1 when none is found. */
function sortedIndexOf(list: readonly { readonly host: string }[], host: string): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const h = list[mid]!.host;
    if (h === host) return mid;
    if (h < host) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The hosts whose virtual host is not the same object as in the last build (added, removed or changed). */
function changedHostsOf(changes: { readonly missed: readonly VirtualHost[]; readonly dropped: readonly VirtualHost[] }): ReadonlySet<string> {
  if (!changes.missed.length && !changes.dropped.length) return NO_HOSTS;
  return new Set([...changes.missed, ...changes.dropped].map((v) => v.host));
}

const NO_HOSTS: ReadonlySet<string> = new Set();

const proxylessClusters = new WeakMap<JsonObject, JsonObject>();

function proxylessClusterOf(c: JsonObject): JsonObject {
  let out = proxylessClusters.get(c);
  if (!out) proxylessClusters.set(c, (out = proxylessCluster(c)));
  return out;
}

const proxyless = new WeakMap<JsonObject, JsonObject>();

function proxylessOf(cla: JsonObject): JsonObject {
  let out = proxyless.get(cla);
  if (!out) proxyless.set(cla, (out = proxylessEndpoints(cla)));
  return out;
}

const enabledMemo = new WeakMap<JsonObject, readonly string[]>();

/** The filter names a route configuration configures per virtual host or route (sorted). */
function enabledFilters(rc: JsonObject): readonly string[] {
  let out = enabledMemo.get(rc);
  if (out) return out;
  const names = new Set<string>();
  for (const vh of (rc['virtual_hosts'] as JsonObject[] | undefined) ?? []) {
    for (const k of Object.keys((vh['typed_per_filter_config'] as JsonObject | undefined) ?? {})) names.add(k);
    for (const r of (vh['routes'] as JsonObject[] | undefined) ?? []) {
      for (const k of Object.keys((r['typed_per_filter_config'] as JsonObject | undefined) ?? {})) names.add(k);
    }
  }
  out = [...names].sort();
  enabledMemo.set(rc, out);
  return out;
}

/** The chain's filters: every filter enabled by default, and the disabled ones its routes enable. */
function chainFilters(filters: readonly JsonObject[], enabled: readonly string[]): readonly JsonObject[] {
  if (!filters.some((f) => f['disabled'] === true)) return filters;
  const on = new Set(enabled);
  return filters.filter((f) => f['disabled'] !== true || on.has(String(f['name'])));
}

/** The same objects in the same order. */
function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}


/** Endpoints a gRPC client routes to (it drops the others, e.g. DRAINING). */
const GRPC_USABLE_HEALTH = new Set(['HEALTHY', 'UNKNOWN']);

/**
 * gRPC's xDS clients (gRFC A27; grpc-js-xds validates it) NACK a ClusterLoadAssignment
 * whose LocalityLbEndpoints has no `locality`, and ignore one without a
 * `load_balancing_weight`: give every locality both. The weight is its number of
 * usable endpoints, so a gRPC client's weighted_target over localities, then
 * round_robin within one, spreads calls per endpoint as Envoy's round robin does.
 */
export function proxylessEndpoints(cla: JsonObject): JsonObject {
  const localities = cla['endpoints'] as JsonObject[];
  return {
    ...cla,
    endpoints: localities.map((l): JsonObject => {
      const lb = l['lb_endpoints'] as JsonObject[];
      const usable = lb.filter((e) => GRPC_USABLE_HEALTH.has(String(e['health_status'] ?? 'UNKNOWN'))).length;
      return { locality: l['locality'] ?? {}, lb_endpoints: lb, load_balancing_weight: Math.max(1, usable) };
    }),
  };
}
