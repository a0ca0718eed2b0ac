// The last check before a snapshot is published: every name a resource refers to
// exists in the same snapshot. A failure here is an xgate bug, never user input.
import type { Json, JsonObject } from '../xds/encode.js';
import type { EnvoyResources } from '../translate/resources.js';
import { resourceName } from '../translate/resources.js';

/** A name a resource refers to: 0 route configuration, 1 secret, 2 cluster, 3 weighted cluster. */
type Ref = readonly [kind: 0 | 1 | 2 | 3, name: string];
type Collect = (key: string, value: Json, parent: Record<string, Json>, out: Ref[]) => void;

const NONE: readonly Ref[] = [];
const NONE_LIST: readonly JsonObject[] = [];

// Resource objects are not mutated once translated, and unchanged parts (virtual hosts,
// shared resources) are the same objects from build to build: the names an object
// refers to are computed once per object (per array element, so that a memoised
// virtual host is a hit inside a new RouteConfiguration).
const listenerRefs = new WeakMap<object, readonly Ref[]>();
const routeRefs = new WeakMap<object, readonly Ref[]>();

const collectListener: Collect = (key, value, parent, out) => {
  if (key === 'route_config_name' && typeof value === 'string') out.push([0, value]);
  // Scoped routes (route shards): each scope names its route configuration.
  if (key === 'route_configuration_name' && typeof value === 'string') out.push([0, value]);
  // Any SdsSecretConfig: { name, sds_config } (certificates, validation contexts, OAuth2 secrets).
  if (key === 'name' && typeof value === 'string' && 'sds_config' in parent) out.push([1, value]);
  // Clusters named by HTTP filters (JWKS fetch, ext_authz, OAuth2 token endpoint).
  if (key === 'cluster' && typeof value === 'string') out.push([2, value]);
};

const collectRoute: Collect = (key, value, parent, out) => {
  if (key === 'cluster' && typeof value === 'string') pushRef(out, 2, value);
  if (key === 'name' && typeof value === 'string' && 'weight' in parent) pushRef(out, 3, value);
};

/**
 * Adds a ref unless one of the last few is the same (a host's routes to one Service are
 * mostly next to each other): the counts are of refs per object, added and taken away
 * alike, so what matters is which names are referred to, not how often.
 */
function pushRef(out: Ref[], kind: 2 | 3, name: string): void {
  for (let i = out.length - 1, stop = Math.max(0, out.length - 4); i >= stop; i--) {
    const r = out[i]!;
    if (r[0] === kind && r[1] === name) return;
  }
  out.push([kind, name]);
}

/**
 * The problems of a group's resources (none: consistent). Incremental: the names each kind
 * defines and the names referred to are counted, and the counts are brought up to date with
 * what changed since the last check of the same group (lists compared object by object), so
 * one change among many resources costs a pointer comparison per resource plus the names
 * of what changed. The messages are made by a whole check, only when something is missing.
 */
export function checkConsistency(r: EnvoyResources, group?: string): string[] {
  const state = group === undefined ? stateFor(r) : stateOfGroup(group);
  let missing: number;
  try {
    missing = state.update(r);
  } catch {
    // A malformed resource (no name, say): the whole check says what is wrong.
    dropState(state);
    return wholeCheck(r);
  }
  return missing === 0 ? [] : wholeCheck(r);
}

/** Every reference of every resource, checked against the name sets of the lists. */
function wholeCheck(r: EnvoyResources): string[] {
  const problems: string[] = [];
  const routes = new Set(r.routes.map(resourceName));
  const clusters = new Set(r.clusters.map(resourceName));
  const secrets = new Set(r.secrets.map(resourceName));
  const assignments = new Set(r.endpoints.map(resourceName));
  for (const l of r.listeners) {
    for (const [kind, name] of refsOf(l, collectListener, listenerRefs, true)) {
      if (kind === 0 && !routes.has(name)) problems.push(`listener ${resourceName(l)} refers to missing route configuration ${name}`);
      if (kind === 1 && !secrets.has(name)) problems.push(`listener ${resourceName(l)} refers to missing secret ${name}`);
      if (kind === 2 && !clusters.has(name)) problems.push(`listener ${resourceName(l)} refers to missing cluster ${name}`);
    }
  }
  for (const s of r.scopedRoutes ?? []) {
    for (const [kind, name] of refsOf(s, collectListener, listenerRefs, true)) {
      if (kind === 0 && !routes.has(name)) problems.push(`scoped route configuration ${resourceName(s)} refers to missing route configuration ${name}`);
    }
  }
  for (const rc of r.routes) {
    for (const refs of routeConfigurationRefs(rc)) {
      for (const [kind, name] of refs) {
        if (clusters.has(name)) continue;
        if (kind === 2) problems.push(`route configuration ${resourceName(rc)} refers to missing cluster ${name}`);
        if (kind === 3) problems.push(`route configuration ${resourceName(rc)} refers to missing weighted cluster ${name}`);
      }
    }
  }
  for (const c of r.clusters) {
    if (c['type'] === 'EDS' && !assignments.has(resourceName(c))) problems.push(`cluster ${resourceName(c)} has no endpoints resource`);
  }
  return problems;
}

/** A RouteConfiguration's refs: those outside its virtual hosts, then each virtual host's (memoised per object). */
function routeConfigurationRefs(rc: JsonObject): (readonly Ref[])[] {
  const vhosts = rc['virtual_hosts'];
  if (!Array.isArray(vhosts)) return [refsOf(rc, collectRoute, routeRefs)];
  const out = [restRefs(rc)];
  for (const vh of vhosts) if (isObject(vh)) out.push(refsOf(vh, collectRoute, routeRefs));
  return out;
}

const restMemo = new WeakMap<object, readonly Ref[]>();

/** The refs of a RouteConfiguration outside its virtual hosts. */
function restRefs(rc: JsonObject): readonly Ref[] {
  let refs = restMemo.get(rc);
  if (!refs) {
    const { virtual_hosts: _v, ...rest } = rc;
    const out: Ref[] = [];
    walkObject(rest, collectRoute, routeRefs, out, false);
    refs = out.length ? out : NONE;
    restMemo.set(rc, refs);
  }
  return refs;
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---- incremental counting ----

/** Name spaces: what route configurations, secrets, clusters and endpoints resources define, and what refers to them. */
const ROUTES = 0;
const SECRETS = 1;
const CLUSTERS = 2;
const ASSIGNMENTS = 3;
/** The name space each ref kind refers to. */
const SPACE_OF_KIND = [ROUTES, SECRETS, CLUSTERS, CLUSTERS] as const;

const FIELDS = ['listeners', 'scopedRoutes', 'routes', 'clusters', 'endpoints', 'secrets'] as const;
type Field = (typeof FIELDS)[number];

/** How far ahead in the last list an element is looked for (elements removed in between). */
const LOOKAHEAD = 8;

class GroupState {
  /** The lists of the last check (lists are never mutated once built). */
  lists: Record<Field, readonly JsonObject[]> = { listeners: [], scopedRoutes: [], routes: [], clusters: [], endpoints: [], secrets: [] };
  private readonly defined = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  private readonly referenced = [new Map<string, number>(), new Map<string, number>(), new Map<string, number>(), new Map<string, number>()];
  /** Names referred to and not defined, over all name spaces. */
  private missing = 0;

  /** Brings the counts up to date with `r`; returns how many names are referred to and missing. */
  update(r: EnvoyResources): number {
    for (const field of FIELDS) {
      const prev = this.lists[field];
      const next = r[field] ?? NONE_LIST;
      if (prev === next) continue;
      const removed: JsonObject[] = [];
      const added: JsonObject[] = [];
      diff(prev, next, removed, added);
      if (field === 'routes') this.updateRoutes(removed, added);
      else {
        for (const x of removed) this.count(field, x, -1);
        for (const x of added) this.count(field, x, 1);
      }
      this.lists[field] = next;
    }
    return this.missing;
  }

  private count(field: Field, x: JsonObject, d: 1 | -1): void {
    switch (field) {
      case 'listeners':
      case 'scopedRoutes':
        this.refs(refsOf(x, collectListener, listenerRefs, true), d);
        break;
      case 'clusters':
        this.define(CLUSTERS, resourceName(x), d);
        if (x['type'] === 'EDS') this.refer(ASSIGNMENTS, resourceName(x), d);
        break;
      case 'endpoints':
        this.define(ASSIGNMENTS, resourceName(x), d);
        break;
      case 'secrets':
        this.define(SECRETS, resourceName(x), d);
        break;
      case 'routes':
        this.define(ROUTES, resourceName(x), d);
        for (const refs of routeConfigurationRefs(x)) this.refs(refs, d);
        break;
    }
  }

  /** A changed RouteConfiguration (one of the same name went) is counted by what changed in its virtual hosts. */
  private updateRoutes(removed: JsonObject[], added: JsonObject[]): void {
    const gone = new Map<string, JsonObject>();
    for (const rc of removed) {
      const name = resourceName(rc);
      if (Array.isArray(rc['virtual_hosts']) && !gone.has(name)) gone.set(name, rc);
      else this.count('routes', rc, -1);
    }
    for (const rc of added) {
      const name = resourceName(rc);
      const old = gone.get(name);
      const vhosts = rc['virtual_hosts'];
      if (!old || !Array.isArray(vhosts)) {
        this.count('routes', rc, 1);
        continue;
      }
      gone.delete(name);
      this.refs(restRefs(old), -1);
      this.refs(restRefs(rc), 1);
      const vr: Json[] = [];
      const va: Json[] = [];
      diff(old['virtual_hosts'] as Json[], vhosts, vr, va);
      for (const vh of vr) if (isObject(vh)) this.refs(refsOf(vh, collectRoute, routeRefs), -1);
      for (const vh of va) if (isObject(vh)) this.refs(refsOf(vh, collectRoute, routeRefs), 1);
    }
    for (const rc of gone.values()) this.count('routes', rc, -1);
  }

  private refs(refs: readonly Ref[], d: 1 | -1): void {
    for (const [kind, name] of refs) this.refer(SPACE_OF_KIND[kind], name, d);
  }

  private define(space: number, name: string, d: 1 | -1): void {
    const defined = this.defined[space]!;
    const n = (defined.get(name) ?? 0) + d;
    if (n) defined.set(name, n);
    else defined.delete(name);
    const isReferred = this.referenced[space]!.has(name);
    if (d === 1 && n === 1 && isReferred) this.missing--;
    if (d === -1 && n === 0 && isReferred) this.missing++;
  }

  private refer(space: number, name: string, d: 1 | -1): void {
    const referenced = this.referenced[space]!;
    const n = (referenced.get(name) ?? 0) + d;
    if (n) referenced.set(name, n);
    else referenced.delete(name);
    const isDefined = this.defined[space]!.has(name);
    if (d === 1 && n === 1 && !isDefined) this.missing++;
    if (d === -1 && n === 0 && !isDefined) this.missing--;
  }
}

/**
 * What differs between two lists of objects: the elements of `prev` not matched in `next`,
 * and those of `next` not matched in `prev`. Matched in order, the same object at the same
 * place or a little further (one insertion, removal or replacement costs nothing more);
 * an object moved far away counts as removed and added, which counts the same.
 */
function diff<T>(prev: readonly T[], next: readonly T[], removed: T[], added: T[]): void {
  let j = 0;
  for (let i = 0; i < next.length; i++) {
    const x = next[i]!;
    let k = j;
    const end = Math.min(prev.length, j + LOOKAHEAD);
    while (k < end && prev[k] !== x) k++;
    if (k < end) {
      for (let s = j; s < k; s++) removed.push(prev[s]!);
      j = k + 1;
    } else added.push(x);
  }
  for (let s = j; s < prev.length; s++) removed.push(prev[s]!);
}

/**
 * The state of a named group (the Controller names its groups): exactly one per name, so
 * the state of a build long gone (10,000 Ingresses before a scale-down) is not kept.
 */
const byGroup = new Map<string, GroupState>();

function stateOfGroup(group: string): GroupState {
  let s = byGroup.get(group);
  if (!s) byGroup.set(group, (s = new GroupState()));
  return s;
}

/** Forgets the state of every group: the next check of each walks all of it (for benchmarks of a from-scratch build). */
export function resetConsistency(): void {
  byGroup.clear();
  states.length = 0;
}

/** One state per group of resources checked without a name (envoy, grpc…), the most recent first. */
const states: GroupState[] = [];
const MAX_STATES = 4;

/** The state whose last lists look most like `r`'s (a wrong pick costs time, never correctness). */
function stateFor(r: EnvoyResources): GroupState {
  let best: GroupState | undefined;
  let bestScore = 0;
  for (const s of states) {
    let score = 0;
    for (const f of FIELDS) {
      const a = s.lists[f];
      const b = r[f] ?? NONE_LIST;
      // Empty lists say little (and the same empty array may stand for "none" in every group).
      if (a.length === 0 || b.length === 0) score += a.length === b.length ? 1 : 0;
      else if (a === b) score += 2;
      else if (a[0] === b[0]) score += 1;
    }
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  if (!best || bestScore < 3) {
    best = new GroupState();
    states.unshift(best);
    if (states.length > MAX_STATES) states.pop();
  } else if (states[0] !== best) {
    states.splice(states.indexOf(best), 1);
    states.unshift(best);
  }
  return best;
}

function dropState(s: GroupState): void {
  for (const [g, x] of byGroup) if (x === s) byGroup.delete(g);
  const i = states.indexOf(s);
  if (i >= 0) states.splice(i, 1);
}

/**
 * The refs of an object, in the order a depth-first walk (key visited before its value)
 * meets them. Memoised for the object (a listener, a virtual host) and, with `top`, for
 * the objects in its own arrays (a listener's filter chains), not deeper: an entry per route, header matcher and weighted cluster cost
 * ~48 MiB at 10k Ingresses, and a changed virtual host or chain is small to walk again.
 */
function refsOf(v: Record<string, Json>, collect: Collect, memo: WeakMap<object, readonly Ref[]>, top = false): readonly Ref[] {
  let refs = memo.get(v);
  if (!refs) {
    const out: Ref[] = [];
    walkObject(v, collect, memo, out, top);
    refs = out.length ? out : NONE;
    memo.set(v, refs);
  }
  return refs;
}

function walkObject(v: Record<string, Json>, collect: Collect, memo: WeakMap<object, readonly Ref[]>, out: Ref[], top: boolean): void {
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    const x = v[k]!;
    collect(k, x, v, out);
    // A route's match (RouteMatch: paths, headers, query parameters, runtime fractions…)
    // names no cluster: a third of a route configuration's objects, not walked.
    if (k === 'match' && collect === collectRoute) continue;
    if (k === 'typed_per_filter_config' && isObject(x)) {
      for (const name in x) {
        if (!Object.prototype.hasOwnProperty.call(x, name)) continue;
        const cfg = x[name]!;
        collect(name, cfg, x, out);
        if (isObject(cfg)) appendShared(cfg, collect, out);
        else walkValue(cfg, collect, memo, out, false);
      }
      continue;
    }
    if (k === 'http_filters' && Array.isArray(x)) {
      for (const f of x) {
        if (isObject(f)) appendShared(f, collect, out);
        else walkValue(f, collect, memo, out, false);
      }
      continue;
    }
    walkValue(x, collect, memo, out, top);
  }
}

/**
 * Per-route filter configs (an Ingress's routes share one object per filter) and a
 * connection manager's HTTP filters (TLS hosts with the same filters share them) are met
 * many times in a build: 23k objects met 227k times among the routes, 27 met 29k times
 * among the filter chains at 10k Ingresses. Their refs are kept per object (objects are
 * never mutated once translated, and a subtree's refs depend on it alone).
 */
const sharedRefs = new Map<Collect, WeakMap<object, readonly Ref[]>>();

function appendShared(v: JsonObject, collect: Collect, out: Ref[]): void {
  let memo = sharedRefs.get(collect);
  if (!memo) sharedRefs.set(collect, (memo = new WeakMap()));
  const refs = refsOf(v, collect, memo);
  if (collect === collectRoute) for (let i = 0; i < refs.length; i++) pushRef(out, refs[i]![0] as 2 | 3, refs[i]![1]);
  else for (let i = 0; i < refs.length; i++) out.push(refs[i]!);
}

function walkValue(x: Json, collect: Collect, memo: WeakMap<object, readonly Ref[]>, out: Ref[], top: boolean): void {
  if (Array.isArray(x)) {
    for (const e of x) {
      if (e && typeof e === 'object' && !Array.isArray(e)) {
        if (top) for (const ref of refsOf(e, collect, memo, false)) out.push(ref);
        else walkObject(e, collect, memo, out, false);
      } else walkValue(e, collect, memo, out, false);
    }
  } else if (x && typeof x === 'object') {
    walkObject(x, collect, memo, out, false);
  }
}
