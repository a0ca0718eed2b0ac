// The last check before a snapshot is published: every name a resource refers to
// exists in the same snapshot. A failure here is an xgate bug, never user input.
import type { Json } from '../xds/encode.js';
import type { EnvoyResources } from '../translate/resources.js';
import { resourceName } from '../translate/resources.js';

/** A name a resource refers to: 0 route configuration, 1 secret, 2 cluster, 3 weighted cluster. */
type Ref = readonly [kind: 0 | 1 | 2 | 3, name: string];
type Collect = (key: string, value: Json, parent: Record<string, Json>, out: Ref[]) => void;

const NONE: readonly Ref[] = [];

// Resource objects are not mutated once translated, and unchanged parts (virtual hosts,
// shared resources) are the same objects from build to build: the names an object
// refers to are computed once per object (per array element, so that a memoised
// virtual host is a hit inside a new RouteConfiguration).
const listenerRefs = new WeakMap<object, readonly Ref[]>();
const routeRefs = new WeakMap<object, readonly Ref[]>();

const collectListener: Collect = (key, value, parent, out) => {
  if (key === 'route_config_name' && typeof value === 'string') out.push([0, value]);
  // Any SdsSecretConfig: { name, sds_config } (certificates, validation contexts, OAuth2 secrets).
  if (key === 'name' && typeof value === 'string' && 'sds_config' in parent) out.push([1, value]);
  // Clusters named by HTTP filters (JWKS fetch, ext_authz, OAuth2 token endpoint).
  if (key === 'cluster' && typeof value === 'string') out.push([2, value]);
};

const collectRoute: Collect = (key, value, parent, out) => {
  if (key === 'cluster' && typeof value === 'string') out.push([2, value]);
  if (key === 'name' && typeof value === 'string' && 'weight' in parent) out.push([3, value]);
};

export function checkConsistency(r: EnvoyResources): string[] {
  const problems: string[] = [];
  const routes = nameSet(r.routes);
  const clusters = nameSet(r.clusters);
  const secrets = nameSet(r.secrets);
  const assignments = nameSet(r.endpoints);
  for (const l of r.listeners) {
    const v = verified.get(l);
    if (v && v[0] === routes && v[1] === secrets && v[2] === clusters) continue;
    const before = problems.length;
    for (const [kind, name] of refsOf(l, collectListener, listenerRefs)) {
      if (kind === 0 && !routes.has(name)) problems.push(`listener ${resourceName(l)} refers to missing route configuration ${name}`);
      if (kind === 1 && !secrets.has(name)) problems.push(`listener ${resourceName(l)} refers to missing secret ${name}`);
      if (kind === 2 && !clusters.has(name)) problems.push(`listener ${resourceName(l)} refers to missing cluster ${name}`);
    }
    if (problems.length === before) verified.set(l, [routes, secrets, clusters]);
  }
  for (const rc of r.routes) {
    const v = verified.get(rc);
    if (v && v[2] === clusters) continue;
    const before = problems.length;
    const check = (refs: readonly Ref[]) => {
      for (const [kind, name] of refs) {
        if (clusters.has(name)) continue;
        if (kind === 2) problems.push(`route configuration ${resourceName(rc)} refers to missing cluster ${name}`);
        if (kind === 3) problems.push(`route configuration ${resourceName(rc)} refers to missing weighted cluster ${name}`);
      }
    };
    // Virtual hosts one by one: a memoised one checked against the same clusters before is skipped.
    const vhosts = rc['virtual_hosts'];
    if (Array.isArray(vhosts)) {
      const { virtual_hosts: _v, ...rest } = rc;
      check(refsOf(rest, collectRoute, routeRefs));
      for (const vh of vhosts) {
        if (!vh || typeof vh !== 'object' || Array.isArray(vh)) continue;
        const w = verified.get(vh);
        if (w && w[2] === clusters) continue;
        const n = problems.length;
        check(refsOf(vh, collectRoute, routeRefs));
        if (problems.length === n) verified.set(vh, [routes, secrets, clusters]);
      }
    } else check(refsOf(rc, collectRoute, routeRefs));
    if (problems.length === before) verified.set(rc, [routes, secrets, clusters]);
  }
  const edsChecked = edsVerified.get(clusters);
  if (edsChecked !== assignments) {
    const before = problems.length;
    for (const c of r.clusters) {
      if (c['type'] === 'EDS' && !assignments.has(resourceName(c))) problems.push(`cluster ${resourceName(c)} has no endpoints resource`);
    }
    if (problems.length === before) edsVerified.set(clusters, assignments);
  }
  return problems;
}

// Incremental checking. A resource list of the same objects as a recent one gets that
// one's name set (the same Set object); an object that passed against the same name sets
// is not checked again. One change among many resources costs a pointer comparison per
// resource plus the check of what changed.
type NameSets = readonly [routes: ReadonlySet<string>, secrets: ReadonlySet<string>, clusters: ReadonlySet<string>];
const verified = new WeakMap<object, NameSets>();
const edsVerified = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();

/** The most recent lists seen and their name sets (a few: one per type and group). */
const recentSets: Array<{ readonly list: readonly Record<string, Json>[]; readonly names: ReadonlySet<string> }> = [];
const RECENT = 8;

function nameSet(list: readonly Record<string, Json>[]): ReadonlySet<string> {
  for (let i = 0; i < recentSets.length; i++) {
    const e = recentSets[i]!;
    if (sameElements(e.list, list)) {
      if (i > 0) {
        recentSets.splice(i, 1);
        recentSets.unshift(e);
      }
      return e.names;
    }
  }
  const names = new Set(list.map(resourceName));
  recentSets.unshift({ list: [...list], names });
  if (recentSets.length > RECENT) recentSets.pop();
  return names;
}

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The refs of an object, in the order a depth-first walk (key visited before its value) meets them. */
function refsOf(v: Record<string, Json>, collect: Collect, memo: WeakMap<object, readonly Ref[]>): readonly Ref[] {
  let refs = memo.get(v);
  if (!refs) {
    const out: Ref[] = [];
    walkObject(v, collect, memo, out);
    refs = out.length ? out : NONE;
    memo.set(v, refs);
  }
  return refs;
}

function walkObject(v: Record<string, Json>, collect: Collect, memo: WeakMap<object, readonly Ref[]>, out: Ref[]): void {
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    const x = v[k]!;
    collect(k, x, v, out);
    walkValue(x, collect, memo, out);
  }
}

function walkValue(x: Json, collect: Collect, memo: WeakMap<object, readonly Ref[]>, out: Ref[]): void {
  if (Array.isArray(x)) {
    for (const e of x) {
      if (e && typeof e === 'object' && !Array.isArray(e)) {
        for (const ref of refsOf(e, collect, memo)) out.push(ref);
      } else walkValue(e, collect, memo, out);
    }
  } else if (x && typeof x === 'object') {
    walkObject(x, collect, memo, out);
  }
}
