// Canary Ingresses → routes merged into their primaries' routes (annotations.md, "Canary").
//
// A canary Ingress claims nothing: after the primaries are built (model/build.ts), every
// host+path of a canary is matched with the primary route of the same host, path and
// pathType, which must come from an Ingress of the same namespace. For that primary:
//
// - each canary (oldest first) adds its match routes before the primary route, in its
//   precedence order header → query → cookie: `always` (or the exact value / pattern)
//   → the canary's Service, `never` → the primary's backends;
// - the canaries with a weight share one weighted route with the primary (the primary
//   route itself, which keeps its name); if their shares add up to more than the whole,
//   XG_CANARY_WEIGHT_OVERFLOW and they are normalised proportionally (primary gets 0);
// - every canary route carries the primary's policy and the primary's own match
//   conditions: a canary contributes its backend and its match only.
//
// Not served, with a diagnostic, and the primary keeps all traffic: a canary with an
// invalid value (XG_CANARY_INVALID), with no primary (XG_CANARY_NO_PRIMARY), in another
// namespace than the primary (XG_CANARY_NAMESPACE), or whose backend does not resolve.
// A canary's TLS section is ignored (the primary's serves); its defaultBackend is
// ignored with XG_CANARY_IGNORED. When the primary fails closed (a security family
// could not parse its value) no canary route is added: a canary never bypasses it.
import { flat } from './flat.js';
import { DiagnosticSink, type Diagnostic, type ObjectRef } from '../diagnostics.js';
import { AnnotationReader } from '../annotations/reader.js';
import { SignatureMemo } from '../annotations/signature-memo.js';
import { parseCanary, cookieRegex, strayCanaryKeys, type CanaryCondition, type CanaryConfig } from '../annotations/canary.js';
import type { Ingress } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import { resolveBackend } from './backends.js';
import type { Cluster, HeaderMatch, Route, RouteAction, RouteMatch, WeightedBackend } from './ir.js';
import { isIngressHost } from './names.js';
import { pathField, specPathKey } from './routing.js';
import { readRecord, recordHolds, trackStore, type Read, type ReadRecord } from './tracked-store.js';
import { sortInPlace } from './small-sort.js';

export interface CanaryMergeInput {
  /** The canary Ingresses' plans (valid metadata, ours), oldest first. */
  readonly canaries: readonly CanaryPlan[];
  readonly sink: DiagnosticSink;
  /** The primaries' routes per host (mutated: canary routes are spliced in). */
  readonly hosts: ReadonlyMap<string, { routes: Route[] }>;
  /** Who serves `${host}\u0000${specPathKey}` (the path as written; see model/routing.ts), and its route's name. */
  readonly claims: ReadonlyMap<string, { readonly owner: ObjectRef; readonly route: string }>;
  readonly addCluster: (c: Cluster) => void;
}

interface Applied {
  readonly ref: ObjectRef;
  readonly config: CanaryConfig;
  readonly cluster: string;
  /** The canary path it comes from (its field, for diagnostics: pathField). */
  readonly at: CanaryPath;
}

/** Largest common denominator used when canaries of one route have different totals. */
const MAX_DENOMINATOR = 1_000_000;

/** One path of a canary: what it joins, and its backend (or why it has none). */
interface CanaryPath {
  /** `${host}\u0000${specPathKey}` */
  readonly key: string;
  readonly host: string;
  readonly specKey: string;
  /** Where it is in the Ingress (spec.rules[rule].http.paths[path]) and its pathType as written: see pathField, canaryWhere. */
  readonly rule: number;
  readonly path: number;
  readonly pathType: string | undefined;
  readonly backend: { readonly cluster: Cluster } | { readonly diagnostic: Diagnostic };
}

/** A canary Ingress worked out on its own (see ingress-plan.ts for the primaries'). */
export interface CanaryPlan {
  readonly ref: ObjectRef;
  readonly diagnostics: readonly Diagnostic[];
  readonly config?: CanaryConfig;
  readonly paths: readonly CanaryPath[];
}

const canaryConfigs = new SignatureMemo<ReturnType<typeof parseCanary>>();

const canaryPlans = new WeakMap<Ingress, { readonly reads: ReadRecord; readonly plan: CanaryPlan }>();

/** What the last planCanary() of this Ingress read from the store. */
export function canaryReads(ing: Ingress): ReadRecord | undefined {
  return canaryPlans.get(ing)?.reads;
}

/** The plan of a canary Ingress (valid metadata, ours), made or reused while it and what it read are the same. */
export function planCanary(ing: Ingress, store: StoreSnapshot, catchAllHost: string): CanaryPlan {
  const e = canaryPlans.get(ing);
  if (e && recordHolds(e.reads, store)) return e.plan;
  const reads: Read[] = [];
  const plan = makeCanaryPlan(ing, trackStore(store, reads), catchAllHost);
  canaryPlans.set(ing, { reads: readRecord(reads, store), plan });
  return plan;
}

function makeCanaryPlan(ing: Ingress, store: StoreSnapshot, catchAllHost: string): CanaryPlan {
  const sink = new DiagnosticSink();
  const ns = ing.metadata.namespace!;
  const ref: ObjectRef = { kind: 'Ingress', namespace: ns, name: ing.metadata.name };
  const reader = new AnnotationReader(ing.metadata.annotations ?? {}, ref, sink);
  // The canary config depends on the annotations alone: shared by canaries with the same ones.
  const signature = reader.signature();
  let parsed = canaryConfigs.get(signature);
  if (!parsed) {
    const before = sink.items.length;
    parsed = parseCanary(reader);
    if (sink.items.length === before) canaryConfigs.set(signature, parsed);
  }
  if (!parsed.ok) return { ref, diagnostics: sink.items, paths: [] };
  const paths: CanaryPath[] = [];
  const spec = ing.spec ?? {};
  if (spec.defaultBackend !== undefined) {
    sink.warning('XG_CANARY_IGNORED', ref, 'a canary\'s defaultBackend is not used; only its rules\' paths become canaries of their primaries', 'spec.defaultBackend');
  }
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    const field = `spec.rules[${i}]`;
    if (!rule || typeof rule !== 'object') {
      sink.error('XG_INGRESS_INVALID', ref, 'a rule must be an object', field);
      return;
    }
    let host = catchAllHost;
    if (rule.host !== undefined && rule.host !== '') {
      if (!isIngressHost(rule.host)) {
        sink.error('XG_INGRESS_HOST_INVALID', ref, `host ${JSON.stringify(rule.host)} is not a lowercase DNS name or a "*." wildcard of one`, `${field}.host`);
        return;
      }
      host = rule.host;
    }
    const rulePaths = rule.http?.paths;
    if (rule.http !== undefined && !Array.isArray(rulePaths)) {
      sink.error('XG_INGRESS_INVALID', ref, 'http.paths must be a list', `${field}.http.paths`);
      return;
    }
    (rulePaths ?? []).forEach((p, j) => {
      const pf = `${field}.http.paths[${j}]`;
      if (!p || typeof p !== 'object') {
        sink.error('XG_INGRESS_INVALID', ref, 'a path must be an object', pf);
        return;
      }
      // The primary is found by the path as written: it may have read it as a regex (use-regex).
      const sk = specPathKey(p.path, p.pathType);
      if (!sk) {
        sink.error('XG_INGRESS_PATH_INVALID', ref, `path ${JSON.stringify(p.path)} with pathType ${JSON.stringify(p.pathType ?? 'ImplementationSpecific')} is not a valid Ingress path`, `${pf}.path`);
        return;
      }
      const key = flat(`${host}\u0000${sk}`);
      if (seen.has(key)) {
        sink.warning('XG_CANARY_IGNORED', ref, `${whereOf(host, sk, p.pathType)} appears twice in this canary; the first is used`, pf);
        return;
      }
      seen.add(key);
      const r = resolveBackend(ns, p.backend, store);
      const own = new DiagnosticSink();
      if (!r.ok) own.error(r.code, ref, `${r.message}; this canary path is not served and its primary keeps all traffic`, `${pf}.backend`);
      paths.push({ key, host, specKey: sk, rule: i, path: j, pathType: p.pathType, backend: r.ok ? { cluster: r.cluster } : { diagnostic: own.items[0]! } });
    });
  });
  return { ref, diagnostics: sink.items, config: parsed.config, paths: paths.slice() };
}

/** Merges the canaries into the primaries' routes; returns the canaries served (in part or whole). */
export function mergeCanaries(input: CanaryMergeInput): ObjectRef[] {
  const { sink } = input;
  const groups = new Map<string, { host: string; key: string; route: string; owner: ObjectRef; canaries: Applied[] }>();

  for (const plan of input.canaries) {
    const { ref, config } = plan;
    for (const d of plan.diagnostics) sink.items.push(d);
    if (!config) continue;
    const ns = ref.namespace;
    for (const cp of plan.paths) {
      const claim = input.claims.get(cp.key);
      if (!claim) {
        sink.error('XG_CANARY_NO_PRIMARY', ref, `${canaryWhere(cp)} has no primary Ingress (one without the canary annotation, same host, path and pathType, in namespace ${ns}); a canary is not served alone`, pathField(cp));
        continue;
      }
      if (claim.owner.namespace !== ns) {
        sink.error('XG_CANARY_NAMESPACE', ref, `${canaryWhere(cp)} is served by Ingress ${claim.owner.namespace}/${claim.owner.name}; a canary must be in its primary's namespace (${claim.owner.namespace}), so this canary path is not served`, pathField(cp));
        continue;
      }
      if ('diagnostic' in cp.backend) {
        sink.items.push(cp.backend.diagnostic);
        continue;
      }
      input.addCluster(cp.backend.cluster);
      const applied: Applied = { ref, config, cluster: cp.backend.cluster.name, at: cp };
      const g = groups.get(cp.key);
      if (!g) groups.set(cp.key, { host: cp.host, key: cp.specKey, route: claim.route, owner: claim.owner, canaries: [applied] });
      else g.canaries.push(applied);
    }
  }

  // Splice per host, from the last primary route to the first so indexes stay valid.
  const served = new Map<string, ObjectRef>();
  const perHost = new Map<string, { index: number; routes: Route[] }[]>();
  for (const g of groups.values()) {
    const hr = input.hosts.get(g.host);
    const index = hr ? hr.routes.findIndex((r) => r.name === g.route) : -1;
    if (!hr || index < 0) {
      // The claim exists but its route was not built: the primary's backend is unusable.
      for (const c of g.canaries) sink.error('XG_CANARY_NO_PRIMARY', c.ref, `host ${g.host} path ${g.key}: the primary Ingress ${g.owner.namespace}/${g.owner.name} serves no route there; a canary is not served alone`, pathField(c.at));
      continue;
    }
    const routes = canaryRoutesOf(hr.routes[index]!, g.canaries, sink);
    if (!routes) continue;
    for (const c of g.canaries) served.set(`${c.ref.namespace}/${c.ref.name}`, c.ref);
    let list = perHost.get(g.host);
    if (!list) perHost.set(g.host, (list = []));
    list.push({ index, routes });
  }
  for (const [host, list] of perHost) {
    const hr = input.hosts.get(host)!;
    for (const { index, routes } of sortInPlace(list, (a, b) => b.index - a.index)) hr.routes.splice(index, 1, ...routes);
  }
  return [...served.values()];
}

/**
 * canaryRoutes, kept per primary route object: while the same route has the same canaries
 * (same plans, same backends), the last build's routes are given again, so the host's
 * virtual host is reused downstream.
 */
const canaryMemo = new WeakMap<Route, { readonly canaries: readonly Applied[]; readonly routes: Route[] | undefined; readonly diagnostics: readonly Diagnostic[] }>();

function canaryRoutesOf(primary: Route, canaries: readonly Applied[], sink: DiagnosticSink): Route[] | undefined {
  let e = canaryMemo.get(primary);
  if (!e || !sameApplied(e.canaries, canaries)) {
    const own = new DiagnosticSink();
    e = { canaries, routes: canaryRoutes(primary, canaries, own), diagnostics: own.items };
    canaryMemo.set(primary, e);
  }
  for (const d of e.diagnostics) sink.items.push(d);
  return e.routes;
}

function sameApplied(a: readonly Applied[], b: readonly Applied[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.ref !== y.ref || x.config !== y.config || x.cluster !== y.cluster || x.at !== y.at) return false;
  }
  return true;
}

/** The routes that replace `primary`: every canary's match routes, then the (weighted) primary. */
function canaryRoutes(primary: Route, canaries: readonly Applied[], sink: DiagnosticSink): Route[] | undefined {
  if (primary.policy?.failClosed) {
    for (const c of canaries) sink.warning('XG_CANARY_IGNORED', c.ref, `the primary route ${primary.name} fails closed (${primary.policy.failClosed.reason}); its canary is not served, so it cannot bypass the primary's policy`, pathField(c.at));
    return undefined;
  }
  if (primary.action.kind === 'redirect') {
    // As in ingress-nginx, a redirect is answered before any backend (canary or not) is chosen.
    for (const c of canaries) sink.warning('XG_CANARY_IGNORED', c.ref, `the primary route ${primary.name} answers every request with a redirect (${primary.action.code}); its canary is not served`, pathField(c.at));
    return undefined;
  }
  const out: Route[] = [];
  const withPolicy = primary.policy ? { policy: primary.policy } : {};
  const forward = (cluster: string): RouteAction => ({ kind: 'forward', backends: [{ cluster, weight: 1 }] });
  const add = (c: Applied, suffix: string, extra: { headers?: HeaderMatch[]; queryParams?: HeaderMatch[] }, action: RouteAction): void => {
    const headers = joined(primary.match.headers, extra.headers);
    const queryParams = joined(primary.match.queryParams, extra.queryParams);
    const match: RouteMatch = headers
      ? queryParams
        ? { path: primary.match.path, headers, queryParams }
        : { path: primary.match.path, headers }
      : queryParams
        ? { path: primary.match.path, queryParams }
        : { path: primary.match.path };
    out.push({ name: flat(`${primary.name}#canary:${c.ref.name}:${suffix}`), match, action, source: c.ref, ...withPolicy });
  };
  for (const c of canaries) {
    const cfg = c.config;
    const canary = forward(c.cluster);
    const cond = (kind: 'header' | 'query', cd: CanaryCondition | undefined): void => {
      if (!cd) return;
      const m = (match: HeaderMatch['match']): { headers?: HeaderMatch[]; queryParams?: HeaderMatch[] } =>
        kind === 'header' ? { headers: [{ name: cd.name, match }] } : { queryParams: [{ name: cd.name, match }] };
      if (cd.mode === 'always-never') {
        add(c, `${kind}-always`, m({ type: 'Exact', value: 'always' }), canary);
        add(c, `${kind}-never`, m({ type: 'Exact', value: 'never' }), primary.action);
      } else if (cd.mode === 'exact') add(c, `${kind}-value`, m({ type: 'Exact', value: cd.value }), canary);
      else add(c, `${kind}-pattern`, m({ type: 'Regex', value: cd.regex }), canary);
    };
    cond('header', cfg.header);
    cond('query', cfg.query);
    const ck = cfg.cookie;
    if (ck) {
      const cookie = (regex: string): { headers: HeaderMatch[] } => ({ headers: [{ name: 'cookie', match: { type: 'Regex', value: regex } }] });
      if (ck.mode === 'always-never') {
        add(c, 'cookie-always', cookie(cookieRegex(ck.name, 'always')), canary);
        add(c, 'cookie-never', cookie(cookieRegex(ck.name, 'never')), primary.action);
      } else if (ck.mode === 'regex') add(c, 'cookie-value', cookie(ck.regex), canary);
      else add(c, 'cookie-value', cookie(cookieRegex(ck.name, ck.value)), canary);
    }
  }
  out.push(weighted(primary, canaries.filter((c) => c.config.weight > 0), sink));
  // Kept with the memo: an exact-size copy (a grown array keeps room for 17).
  return out.slice();
}

/** The primary route with the weight canaries' share of its traffic. */
function weighted(primary: Route, canaries: readonly Applied[], sink: DiagnosticSink): Route {
  if (!canaries.length) return primary;
  if (primary.action.kind !== 'forward') {
    const how = primary.action.kind === 'direct' ? `directly (${primary.action.status})` : `with a redirect (${primary.action.code})`;
    for (const c of canaries) sink.warning('XG_CANARY_IGNORED', c.ref, `canary-weight: the primary route ${primary.name} answers ${how} instead of forwarding, so no share of its traffic can be given to the canary`, pathField(c.at));
    return primary;
  }
  let d = 1;
  for (const c of canaries) d = lcm(d, c.config.total);
  const exact = d <= MAX_DENOMINATOR;
  if (!exact) d = MAX_DENOMINATOR;
  const shares = canaries.map((c) => (exact ? (c.config.weight * d) / c.config.total : Math.round((c.config.weight * d) / c.config.total)));
  const sum = shares.reduce((a, b) => a + b, 0);
  if (sum > d) {
    const pct = (x: number) => `${Math.round((x * 10000) / d) / 100} %`;
    const asked = canaries.map((c, i) => `${c.ref.name} ${pct(shares[i]!)}`).join(', ');
    for (const c of canaries) sink.warning('XG_CANARY_WEIGHT_OVERFLOW', c.ref, `the canaries of ${primary.name} ask for ${pct(sum)} of its traffic (${asked}); they are normalised proportionally and the primary gets none`, pathField(c.at));
  }
  const primaryShare = Math.max(0, d - sum);
  const pb = primary.action.backends;
  const pTotal = pb.reduce((a, b) => a + b.weight, 0);
  // One entry per cluster, in first-seen order, weights of a cluster named twice summed
  // (a handful of backends: a scan, not a Map).
  const backends: WeightedBackend[] = [];
  const put = (cluster: string, w: number) => {
    if (!(w > 0)) return;
    for (let i = 0; i < backends.length; i++) {
      const b = backends[i]!;
      if (b.cluster === cluster) {
        backends[i] = { cluster, weight: b.weight + w };
        return;
      }
    }
    backends.push({ cluster, weight: w });
  };
  for (const b of pb) put(b.cluster, b.weight * primaryShare);
  for (let i = 0; i < canaries.length; i++) put(canaries[i]!.cluster, shares[i]! * pTotal);
  return { ...primary, action: { kind: 'forward', backends: backends.slice() } };
}

/** Two optional match lists as one (an exact-size array; absent when both are). */
function joined(a: readonly HeaderMatch[] | undefined, b: readonly HeaderMatch[] | undefined): HeaderMatch[] | undefined {
  if (!a || !a.length) return b ? (b as HeaderMatch[]) : a ? [] : undefined;
  if (!b || !b.length) return a as HeaderMatch[];
  return a.concat(b);
}

/** A canary path as diagnostics name it: `host … path … (pathType)`. */
function canaryWhere(cp: CanaryPath): string {
  return whereOf(cp.host, cp.specKey, cp.pathType);
}

function whereOf(host: string, specKey: string, pathType: string | undefined): string {
  return `host ${host} path ${specKey.slice(specKey.indexOf(':') + 1)} (${pathType ?? 'ImplementationSpecific'})`;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function lcm(a: number, b: number): number {
  const l = (a / gcd(a, b)) * b;
  return l > MAX_DENOMINATOR * 10 ? MAX_DENOMINATOR * 10 + 1 : l;
}

/** Canary keys on an Ingress that is not a canary have no effect (as in nginx): say so. */
export function warnStrayCanaryKeys(ing: Ingress, ref: ObjectRef, sink: DiagnosticSink): void {
  for (const a of strayCanaryKeys(ing.metadata.annotations)) {
    sink.warning('XG_CANARY_IGNORED', ref, `${a} is set but this Ingress is not a canary (no canary: "true"); it has no effect`, `metadata.annotations["${a}"]`);
  }
}
