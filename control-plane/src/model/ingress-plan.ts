// One primary Ingress's part of the model, worked out on its own: its paths as route
// matches, each path's action and route, its default backend, its TLS entries, its host
// policy wish, and every diagnostic that does not depend on other Ingresses. Which of its
// claims it gets (host+path, default backend, TLS host) depends on the older Ingresses
// and is decided when the plans are replayed in priority order (model/build.ts); the
// diagnostics that depend on the outcome are attached to the claim they follow from.
//
// A plan is kept from build to build while its Ingress is the same object, its policy
// read is the same (policy-memo.ts) and every store object it read is the same, so a
// change to one Ingress among thousands replans one Ingress; everything else is replayed.
// Plans, and the routes and clusters in them, are never mutated once made.
import { flat } from './flat.js';
import { DiagnosticSink, type Diagnostic, type ObjectRef } from '../diagnostics.js';
import type { IngressBackend, Ingress } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { PolicyRead } from './policy-memo.js';
import type { HostPolicyWish } from './host-policy.js';
import { resolveBackend } from './backends.js';
import { warnStrayCanaryKeys } from './canary.js';
import type { Cluster, Route, RouteAction } from './ir.js';
import { secretName } from './ir.js';
import { isDnsSubdomain, isIngressHost } from './names.js';
import { pathKey } from './paths.js';
import { APP_ROOT_PATH, appRootAction, coversRoot, matchKeySuffix, policyAction, routeMatch, routePathMatch, routePolicy, specPathKey } from './routing.js';
import { readRecord, recordHolds, trackStore, type Read, type ReadRecord } from './tracked-store.js';

export const CATCH_ALL_HOST = '*';

/** An action worked out for a backend, with what working it out reported and resolved. */
interface PlannedAction {
  readonly action?: RouteAction;
  readonly diagnostics: readonly Diagnostic[];
  readonly cluster?: Cluster;
}

/** One path of a rule that passed the checks: a claim of `key` on `host`. */
export interface PathStep {
  readonly host: string;
  /** The claim key: host, path match and custom match conditions. */
  readonly key: string;
  /** Where it is in the Ingress (spec.rules[rule].http.paths[path]): see pathField. */
  readonly rule: number;
  readonly path: number;
  /** What the conflict message names (see pathWhat): the path matched, as the route matches it, and its pathType as written. */
  readonly matchValue: string;
  readonly pathType: string | undefined;
  /** Reported and resolved when the claim is not taken by an older Ingress. */
  readonly act: PlannedAction;
  /** The route served when the claim is made (absent: the path has no usable action). */
  readonly route?: Route;
  /** Reported when the route is served (per-path rewrites). */
  readonly routeDiagnostics: readonly Diagnostic[];
  /** The key canaries find this route by (absent with custom match conditions). */
  readonly canaryKey?: string;
  /** app-root: this path covers "/" and the Ingress redirects "/" (the first such path per host is used). */
  readonly appRoot?: { readonly key: string; readonly route: Route };
}

/** For the conflict message: `host … path … (pathType)`. */
export function pathWhat(step: PathStep): string {
  return `host ${step.host} path ${step.matchValue} (${step.pathType ?? 'ImplementationSpecific'})`;
}

export interface TlsStep {
  readonly host: string;
  /** `namespace/secretName` */
  readonly secret: string;
  readonly namespace: string;
  readonly secretName: string;
  readonly field: string;
}

export interface IngressPlan {
  readonly ref: ObjectRef;
  /** Diagnostics whatever the other Ingresses do (rules, paths, TLS entries, default backend). */
  readonly diagnostics: readonly Diagnostic[];
  /** Clusters added whatever the claims (the default backend's). */
  readonly clusters: readonly Cluster[];
  readonly paths: readonly PathStep[];
  /** The default backend's route and the hosts it is the fallback of (`*` first). */
  readonly fallback?: { readonly route: Route; readonly hosts: readonly string[] };
  readonly tls: readonly TlsStep[];
  readonly hostWish?: HostPolicyWish;
}

interface Entry {
  readonly read: PolicyRead;
  readonly reads: ReadRecord;
  readonly plan: IngressPlan;
}

const plans = new WeakMap<Ingress, Entry>();

/** The plan of a primary Ingress (valid metadata, ours), made or reused. */
/** What the last planIngress() of this Ingress read from the store. */
export function planReads(ing: Ingress): ReadRecord | undefined {
  return plans.get(ing)?.reads;
}

export function planIngress(ing: Ingress, read: PolicyRead, store: StoreSnapshot): IngressPlan {
  const e = plans.get(ing);
  if (e && e.read === read && recordHolds(e.reads, store)) return e.plan;
  const reads: Read[] = [];
  const plan = makePlan(ing, read, trackStore(store, reads));
  plans.set(ing, { read, reads: readRecord(reads, store), plan });
  return plan;
}

function makePlan(ing: Ingress, read: PolicyRead, store: StoreSnapshot): IngressPlan {
  const ns = ing.metadata.namespace!;
  const ref: ObjectRef = { kind: 'Ingress', namespace: ns, name: ing.metadata.name };
  const sink = new DiagnosticSink();
  warnStrayCanaryKeys(ing, ref, sink);
  const spec = ing.spec ?? {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  if (spec.rules !== undefined && !Array.isArray(spec.rules)) sink.error('XG_INGRESS_INVALID', ref, 'spec.rules must be a list', 'spec.rules');
  const ingHosts: string[] = [];
  const { route: policy, host: hostPolicy } = read.policy;
  const withPolicy = policy ? { policy } : {};
  const clusters: Cluster[] = [];
  const paths: PathStep[] = [];

  // `field` is made only when a diagnostic is reported.
  const action = (backend: IngressBackend | undefined, field: () => string): PlannedAction => {
    if (policy?.failClosed) return { action: { kind: 'direct', status: policy.failClosed.status, body: `xgate: ${policy.failClosed.reason}\n` }, diagnostics: NONE };
    const imposed = policyAction(policy); // redirect or destination split (model/routing.ts)
    if (imposed) return { action: imposed, diagnostics: NONE };
    const r = resolveBackend(ns, backend, store);
    if (r.ok) return r; // its action is shared by every path to that Service port
    const own = new DiagnosticSink();
    own.error(r.code, ref, r.servable ? `${r.message}; requests get 503 until it does` : r.message, field());
    return { ...(r.servable ? { action: { kind: 'direct', status: 503, body: 'xgate: backend unavailable\n' } } : {}), diagnostics: own.items };
  };

  rules.forEach((rule, i) => {
    const field = `spec.rules[${i}]`;
    if (!rule || typeof rule !== 'object') {
      sink.error('XG_INGRESS_INVALID', ref, 'a rule must be an object', field);
      return;
    }
    let host = CATCH_ALL_HOST;
    if (rule.host !== undefined && rule.host !== '') {
      if (!isIngressHost(rule.host)) {
        sink.error('XG_INGRESS_HOST_INVALID', ref, `host ${JSON.stringify(rule.host)} is not a lowercase DNS name or a "*." wildcard of one`, `${field}.host`);
        return;
      }
      host = rule.host;
    }
    if (!ingHosts.includes(host)) ingHosts.push(host);
    const rulePaths = rule.http?.paths;
    if (rule.http !== undefined && !Array.isArray(rulePaths)) {
      sink.error('XG_INGRESS_INVALID', ref, 'http.paths must be a list', `${field}.http.paths`);
      return;
    }
    (rulePaths ?? []).forEach((p, j) => {
      // Diagnostics name the path's field; the string is made only for one.
      const pf = (): string => `${field}.http.paths[${j}]`;
      if (!p || typeof p !== 'object') {
        sink.error('XG_INGRESS_INVALID', ref, 'a path must be an object', pf());
        return;
      }
      if (policy?.customMatchInvalid) return; // reported by the match family: serving without the conditions would take others' traffic
      const pm = routePathMatch(p.path, p.pathType, policy);
      if (!pm.ok) {
        sink.error(pm.code, ref, pm.message, `${pf()}.path`);
        return;
      }
      if (pm.warning) sink.warning('XG_INGRESS_PATH_REGEX_CHARS', ref, pm.warning, `${pf()}.path`);
      const pk = pathKey(pm.match);
      const key = flat(`${host}\u0000${pk}${matchKeySuffix(policy)}`);
      const isAppRoot = policy?.appRoot !== undefined && !policy.failClosed && !policy.redirect && pm.match.type === 'Exact' && pm.match.value === '/';
      const act: PlannedAction = isAppRoot ? { action: appRootAction(policy.appRoot!), diagnostics: NONE } : action(p.backend, () => `${pf()}.backend`);
      if (!act.action) {
        paths.push(pathStep(host, key, i, j, pm.match.value, p.pathType, act, undefined, NONE, undefined, undefined));
        return;
      }
      const name = flat(`${ns}/${ref.name}/${pk}`);
      const sk = specPathKey(p.path, p.pathType);
      const own = new DiagnosticSink();
      const rp = routePolicy(policy, pm.match, act.action, own, ref, `${pf()}.path`);
      const match = routeMatch(pm.match, policy);
      const route: Route = rp ? { name, match, action: act.action, source: ref, policy: rp } : { name, match, action: act.action, source: ref };
      const appRoot =
        policy?.appRoot !== undefined && !isAppRoot && !policy.failClosed && !policy.redirect && coversRoot(pm.match)
          ? {
              key: `${host}\u0000${pathKey(APP_ROOT_PATH)}${matchKeySuffix(policy)}`,
              route: { name: flat(`${ns}/${ref.name}/app-root`), match: routeMatch(APP_ROOT_PATH, policy), action: appRootAction(policy.appRoot), source: ref, ...withPolicy },
            }
          : undefined;
      // Mostly the claim key itself (the path as written is the path matched).
      const canaryKey = sk && !policy?.customMatch ? (sk === pk ? key : flat(`${host}\u0000${sk}`)) : undefined;
      paths.push(pathStep(host, key, i, j, pm.match.value, p.pathType, act, route, own.items.length ? own.items : NONE, canaryKey, appRoot));
    });
  });

  let fallback: IngressPlan['fallback'];
  if (spec.defaultBackend !== undefined && !policy?.customMatchInvalid) {
    const act = action(spec.defaultBackend, () => 'spec.defaultBackend');
    sink.items.push(...act.diagnostics);
    if (act.cluster) clusters.push(act.cluster);
    if (act.action) {
      fallback = {
        route: { name: flat(`${ns}/${ref.name}/default-backend`), match: { path: { type: 'StringPrefix', value: '/' } }, action: act.action, source: ref, ...withPolicy },
        hosts: [CATCH_ALL_HOST, ...ingHosts.filter((h) => h !== CATCH_ALL_HOST)],
      };
    }
  }

  const tls: TlsStep[] = [];
  (Array.isArray(spec.tls) ? spec.tls : []).forEach((t, i) => {
    const field = `spec.tls[${i}]`;
    if (!t || typeof t !== 'object') return;
    if (!t.secretName) {
      sink.warning('XG_SECRET_NOT_FOUND', ref, 'TLS entry without secretName: no default certificate is served for its hosts', `${field}.secretName`);
      return;
    }
    if (!isDnsSubdomain(t.secretName)) {
      sink.error('XG_SECRET_INVALID', ref, `secretName ${JSON.stringify(t.secretName)} is not a valid Secret name`, `${field}.secretName`);
      return;
    }
    const tlsHosts = Array.isArray(t.hosts) && t.hosts.length ? t.hosts : ingHosts.filter((h) => h !== CATCH_ALL_HOST);
    for (const h of tlsHosts) {
      if (!isIngressHost(h)) {
        sink.error('XG_INGRESS_HOST_INVALID', ref, `TLS host ${JSON.stringify(h)} is not a lowercase DNS name or a "*." wildcard of one`, `${field}.hosts`);
        continue;
      }
      tls.push({ host: h, secret: secretName(ns, t.secretName), namespace: ns, secretName: t.secretName, field });
    }
  });

  return {
    ref,
    diagnostics: sink.items,
    clusters: clusters.length ? clusters : NO_CLUSTERS,
    // Kept: exact-size copies (a grown array keeps room for 17).
    paths: paths.slice(),
    ...(fallback ? { fallback } : {}),
    tls: tls.length ? tls.slice() : NO_TLS,
    ...(hostPolicy ? { hostWish: { source: ref, hosts: ingHosts, policy: hostPolicy } } : {}),
  };
}

const NONE: readonly Diagnostic[] = Object.freeze([]) as readonly Diagnostic[];
const NO_CLUSTERS: readonly Cluster[] = Object.freeze([]) as readonly Cluster[];
const NO_TLS: readonly TlsStep[] = Object.freeze([]) as readonly TlsStep[];

/** A PathStep, every one of one shape (optional parts undefined). */
function pathStep(
  host: string,
  key: string,
  rule: number,
  path: number,
  matchValue: string,
  pathType: string | undefined,
  act: PlannedAction,
  route: Route | undefined,
  routeDiagnostics: readonly Diagnostic[],
  canaryKey: string | undefined,
  appRoot: PathStep['appRoot'],
): PathStep {
  return { host, key, rule, path, matchValue, pathType, act, route, routeDiagnostics, canaryKey, appRoot };
}
