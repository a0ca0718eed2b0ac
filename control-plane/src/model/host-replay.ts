// One host's part of the model, from the plans of the Ingresses that name it: who gets
// each claim on the host (its paths, its default backend, its TLS certificate) — the
// oldest Ingress first — then the canaries that join the host's routes, the host's
// domain policy, and its VirtualHost. Every claim is keyed by host, so hosts are
// independent of each other: a build replays only the hosts its changes touch.
import { DiagnosticSink, type Diagnostic, type ObjectRef } from '../diagnostics.js';
import type { StoreSnapshot } from '../sources/store.js';
import type { Secret } from '../sources/k8s-types.js';
import { mergeCanaries, type CanaryPlan } from './canary.js';
import { mergeHostPolicies, type HostPolicyWish } from './host-policy.js';
import { CATCH_ALL_HOST, pathWhat, type IngressPlan, type PathStep, type TlsStep } from './ingress-plan.js';
import type { Cluster, HostPolicy, Route, TlsHost, TlsSecret, VirtualHost } from './ir.js';
import { compareRoutes } from './paths.js';
import { pathField, withHttpsRedirects } from './routing.js';
import { sameData } from './same-data.js';
import { sortInPlace } from './small-sort.js';
import { resolveTlsSecret } from './tls.js';

/** What a primary Ingress's plan does on one host. */
export interface HostPart {
  readonly paths: readonly PathStep[];
  readonly fallback?: Route;
  readonly tls: readonly TlsStep[];
  readonly wish?: HostPolicyWish;
}

const planParts = new WeakMap<IngressPlan, ReadonlyMap<string, HostPart>>();

/** A primary plan split by host (kept per plan object). Its keys are every host the plan names. */
export function partsOf(plan: IngressPlan): ReadonlyMap<string, HostPart> {
  let out = planParts.get(plan);
  if (out) return out;
  const parts = new Map<string, { paths: readonly PathStep[]; fallback?: Route; tls: readonly TlsStep[]; wish?: HostPolicyWish }>();
  const part = (h: string) => {
    let p = parts.get(h);
    if (!p) parts.set(h, (p = { paths: NO_PATHS, tls: NO_TLS }));
    return p;
  };
  // Most plans name one host: its part holds the plan's own lists (no copy).
  for (const s of plan.paths) part(s.host);
  for (const t of plan.tls) part(t.host);
  for (const [h, p] of parts) {
    p.paths = parts.size === 1 ? plan.paths : onHost(plan.paths, h);
    p.tls = parts.size === 1 ? plan.tls : onHost(plan.tls, h);
  }
  if (plan.fallback) for (const h of plan.fallback.hosts) part(h).fallback = plan.fallback.route;
  if (plan.hostWish) for (const h of plan.hostWish.hosts) part(h).wish = plan.hostWish;
  out = parts;
  planParts.set(plan, out);
  return out;
}

/** The steps on `host`, in an exact-size array (kept with the plan). */
function onHost<T extends { readonly host: string }>(steps: readonly T[], host: string): readonly T[] {
  let n = 0;
  for (const s of steps) if (s.host === host) n++;
  if (n === 0) return NO_STEPS as readonly T[];
  const out = new Array<T>(n);
  let i = 0;
  for (const s of steps) if (s.host === host) out[i++] = s;
  return out;
}

const NO_STEPS: readonly never[] = Object.freeze([]);
const NO_PATHS: readonly PathStep[] = Object.freeze([]) as readonly PathStep[];
const NO_TLS: readonly TlsStep[] = Object.freeze([]) as readonly TlsStep[];
const NO_DIAGNOSTICS: readonly Diagnostic[] = Object.freeze([]) as readonly Diagnostic[];

const canaryParts = new WeakMap<CanaryPlan, ReadonlyMap<string, CanaryPlan>>();

/** A canary plan split by host: per host, the plan with that host's paths only and no diagnostics of its own. */
export function canaryPartsOf(plan: CanaryPlan): ReadonlyMap<string, CanaryPlan> {
  let out = canaryParts.get(plan);
  if (out) return out;
  const parts = new Map<string, CanaryPlan>();
  if (plan.config) {
    const hosts = new Set<string>();
    for (const p of plan.paths) hosts.add(p.host);
    for (const h of hosts) {
      const paths = hosts.size === 1 ? plan.paths : onHost(plan.paths, h);
      parts.set(h, { ref: plan.ref, diagnostics: NO_DIAGNOSTICS, config: plan.config, paths });
    }
  }
  out = parts;
  canaryParts.set(plan, out);
  return out;
}

/** The outcome of a host's replay. */
export interface HostResult {
  readonly vh?: VirtualHost;
  readonly tlsHost?: TlsHost;
  readonly secret?: TlsSecret;
  /** The Secret object the TLS claim was resolved from (a different one replays the host). */
  readonly secretObject?: Secret;
  readonly clusters: readonly Cluster[];
  readonly diagnostics: readonly Diagnostic[];
  /** The TLS Secret could not be used: reported once per Secret and owner, for the first host. */
  readonly tlsFailure?: { readonly key: string; readonly diagnostic: Diagnostic };
  /** Canaries with a route on this host. */
  readonly canaries: readonly ObjectRef[];
  /** The routes the VirtualHost was made from, to reuse it when they are the same. */
  readonly inputs?: { readonly routes: readonly Route[]; readonly fallback?: Route; readonly tls: boolean; readonly policy?: HostPolicy };
}

export interface HostPrimary {
  readonly ref: ObjectRef;
  readonly part: HostPart;
}

/**
 * Replays the host: `primaries` and `canaries` are the Ingresses naming it, oldest first.
 * `prior` is the host's last result (its objects are reused when equal).
 */
export function replayHost(host: string, primaries: readonly HostPrimary[], canaries: readonly CanaryPlan[], store: StoreSnapshot, prior: HostResult | undefined): HostResult {
  const sink = new DiagnosticSink();
  const pathClaims = new Map<string, ObjectRef>();
  // Made when a path can take canaries, and only when canaries name the host is it read.
  let canaryClaims: Map<string, { readonly owner: ObjectRef; readonly route: string }> | undefined;
  const routes: Route[] = [];
  const clusters: Cluster[] = [];
  let wishes: HostPolicyWish[] | undefined;
  let fallback: { readonly owner: ObjectRef; readonly route: Route } | undefined;
  let tlsClaim: { readonly owner: ObjectRef; readonly step: TlsStep } | undefined;

  for (const { ref: owner, part } of primaries) {
    let appRootDone = false;
    for (const step of part.paths) {
      const claimed = pathClaims.get(step.key);
      if (claimed) {
        sink.error('XG_HOST_CONFLICT', owner, `${pathWhat(step)} is already served by ${describe(claimed)}, which is older; this path is not served from here`, pathField(step));
        continue;
      }
      for (const d of step.act.diagnostics) sink.items.push(d);
      // Once per cluster object (the paths to one Service port share it).
      const c = step.act.cluster;
      if (c && !clusters.includes(c)) clusters.push(c);
      const route = step.route;
      if (!route) continue;
      pathClaims.set(step.key, owner);
      if (step.canaryKey !== undefined && canaries.length) {
        canaryClaims ??= new Map();
        if (!canaryClaims.has(step.canaryKey)) canaryClaims.set(step.canaryKey, { owner, route: route.name });
      }
      for (const d of step.routeDiagnostics) sink.items.push(d);
      routes.push(route);
      // app-root: a request for exactly "/" on a host where this Ingress serves "/" is redirected.
      const ar = step.appRoot;
      if (ar && !appRootDone) {
        appRootDone = true;
        const rootClaimed = pathClaims.get(ar.key);
        if (rootClaimed) {
          sink.warning('XG_ROUTING_IGNORED', owner, `app-root: host ${host} path "/" (Exact) is already served by ${describe(rootClaimed)}; "/" is not redirected there`, pathField(step));
        } else {
          pathClaims.set(ar.key, owner);
          routes.push(ar.route);
        }
      }
    }
    if (part.fallback) {
      if (fallback) {
        if (host === CATCH_ALL_HOST) sink.error('XG_DEFAULT_BACKEND_CONFLICT', owner, `the default backend is already given by ${describe(fallback.owner)}, which is older`, 'spec.defaultBackend');
      } else fallback = { owner, route: part.fallback };
    }
    for (const t of part.tls) {
      if (tlsClaim) {
        if (tlsClaim.step.secret !== t.secret) {
          sink.error('XG_TLS_CONFLICT', owner, `TLS for host ${host} is already served with Secret ${tlsClaim.step.secret} by ${describe(tlsClaim.owner)}, which is older`, `${t.field}.hosts`);
        }
        continue;
      }
      tlsClaim = { owner, step: t };
    }
    if (part.wish) (wishes ??= []).push(part.wish);
  }

  const hostRoutes = { routes };
  const served = canaries.length
    ? mergeCanaries({ canaries, sink, hosts: new Map([[host, hostRoutes]]), claims: canaryClaims ?? NO_CLAIMS, addCluster: (c) => clusters.push(c) })
    : NO_REFS;
  const policy = wishes ? mergeHostPolicies(wishes, sink).get(host) : undefined;
  const hasRoutes = hostRoutes.routes.length > 0 || fallback !== undefined;

  let tlsHost: TlsHost | undefined;
  let secret: TlsSecret | undefined;
  let secretObject: Secret | undefined;
  let tlsFailure: HostResult['tlsFailure'];
  if (tlsClaim) {
    const { step, owner } = tlsClaim;
    secretObject = store.secrets.get(`${step.namespace}/${step.secretName}`);
    const r = resolveTlsSecret(step.namespace, step.secretName, store);
    if (!r.ok) {
      const own = new DiagnosticSink();
      own.error(r.code, owner, `${r.message}; HTTPS is not served for host ${host}`, `${step.field}.secretName`);
      tlsFailure = { key: `${step.secret}\u0000${describe(owner)}`, diagnostic: own.items[0]! };
    } else if (hasRoutes) {
      secret = r.secret;
      const p = prior?.tlsHost;
      tlsHost = p && p.secret === step.secret && (p.policy === policy || sameData(p.policy, policy)) ? p : policy ? { host, secret: step.secret, policy } : { host, secret: step.secret };
    }
  }

  let vh: VirtualHost | undefined;
  let inputs: HostResult['inputs'];
  if (hasRoutes) {
    const tls = tlsHost !== undefined;
    const fb = fallback?.route;
    const pi = prior?.inputs;
    if (prior?.vh && pi && pi.tls === tls && pi.fallback === fb && sameElements(pi.routes, hostRoutes.routes) && (pi.policy === policy || sameData(pi.policy, policy))) {
      vh = prior.vh;
      inputs = pi;
    } else {
      // HTTPS redirects (ssl-redirect, force-ssl-redirect) need to know whether the host is served over HTTPS.
      const sorted = withHttpsRedirects(sortedRoutes(hostRoutes.routes, fb), tls);
      const made: VirtualHost = policy ? { host, routes: sorted, policy } : { host, routes: sorted };
      vh = prior?.vh && sameData(prior.vh, made) ? prior.vh : made;
      const r = hostRoutes.routes.slice();
      inputs = fb ? (policy ? { routes: r, fallback: fb, tls, policy } : { routes: r, fallback: fb, tls }) : policy ? { routes: r, tls, policy } : { routes: r, tls };
    }
  }

  // Optional fields set only when present (a result is never compared as data).
  // Kept until the host is replayed again: exact-size lists, shared empty ones.
  const out: { -readonly [K in keyof HostResult]: HostResult[K] } = {
    clusters: clusters.length ? clusters.slice() : NO_CLUSTERS,
    diagnostics: sink.items.length ? sink.items : NO_DIAGNOSTICS,
    canaries: served,
  };
  if (vh) out.vh = vh;
  if (tlsHost) out.tlsHost = tlsHost;
  if (secret) out.secret = secret;
  if (secretObject) out.secretObject = secretObject;
  if (tlsFailure) out.tlsFailure = tlsFailure;
  if (inputs) out.inputs = inputs;
  return out;
}

const NO_CLAIMS: ReadonlyMap<string, { readonly owner: ObjectRef; readonly route: string }> = new Map();
const NO_REFS: readonly ObjectRef[] = [];
const NO_CLUSTERS: readonly Cluster[] = Object.freeze([]) as readonly Cluster[];

/** The routes in match order (compareRoutes; a stable sort), then the fallback: a new array. */
function sortedRoutes(routes: readonly Route[], fallback: Route | undefined): Route[] {
  // Kept in the VirtualHost: exact-size arrays (a pushed-to array keeps room to grow).
  const out = sortInPlace(routes.slice(), compareRoutes);
  return fallback ? out.concat([fallback]) : out;
}

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function describe(ref: ObjectRef): string {
  return `Ingress ${ref.namespace}/${ref.name}`;
}
