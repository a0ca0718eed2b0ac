// Store → Model: which Ingresses are ours, their hosts, paths, backends and TLS,
// with every problem turned into a diagnostic on the object that carries it.
// Pure: the same store gives the same model and diagnostics, in the same order.
import { DiagnosticSink, type ObjectRef } from '../diagnostics.js';
import type { Ingress, IngressBackend } from '../sources/k8s-types.js';
import type { StoreSnapshot } from '../sources/store.js';
import { readPolicy } from './policy-memo.js';
import { sameData } from './same-data.js';
import { mergeHostPolicies, type HostPolicyWish } from './host-policy.js';
import { resolveBackend } from './backends.js';
import { canaryMarker } from '../annotations/canary.js';
import { mergeCanaries, warnStrayCanaryKeys } from './canary.js';
import { attachClusterPolicies } from './cluster-policy.js';
import { hasOurDefaultClass, isOurIngress } from './ingress-class.js';
import type { Cluster, HostPolicy, Model, Route, RouteAction, TlsHost, TlsSecret, VirtualHost } from './ir.js';
import { isDnsLabel, isDnsSubdomain, isIngressHost } from './names.js';
import type { ModelOptions } from './options.js';
import { compareRoutes, pathKey } from './paths.js';
import { APP_ROOT_PATH, appRootAction, coversRoot, matchKeySuffix, policyAction, routeMatch, routePathMatch, routePolicy, specPathKey, withHttpsRedirects } from './routing.js';
import { resolveTlsSecret } from './tls.js';

export const CATCH_ALL_HOST = '*';

interface Claim {
  readonly owner: ObjectRef;
}

interface HostRoutes {
  routes: Route[];
  fallback?: Route;
}

export interface ModelBuild {
  readonly model: Model;
  readonly diagnostics: DiagnosticSink['items'];
  /** The Ingresses that were served (in whole or part), in priority order. */
  readonly ingresses: readonly ObjectRef[];
  /** URLs of documents the annotations asked the control plane to fetch (sorted). */
  readonly externalUrls: readonly string[];
}

export function buildModel(store: StoreSnapshot, opts: ModelOptions): ModelBuild {
  const sink = new DiagnosticSink();
  const ourDefault = hasOurDefaultClass(store.ingressClasses, opts);
  const ingresses = [...store.ingresses.values()]
    .filter((ing) => isOurIngress(ing, store.ingressClasses, opts, ourDefault))
    .filter((ing) => validMeta(ing, sink))
    .sort(byPriority);

  const hosts = new Map<string, HostRoutes>();
  const pathClaims = new Map<string, Claim>();
  /** `${host}\u0000${specPathKey}` → the primary route a canary of that host and path joins. */
  const canaryClaims = new Map<string, Claim & { route: string }>();
  const fallbackClaims = new Map<string, Claim>();
  const tlsClaims = new Map<string, { secret: string; namespace: string; secretName: string; owner: ObjectRef; field: string }>();
  const clusters = new Map<string, Cluster>();
  const served: ObjectRef[] = [];
  const canaries: Ingress[] = [];
  const hostWishes: HostPolicyWish[] = [];
  const externalUrls = new Set<string>();

  for (const ing of ingresses) {
    const ns = ing.metadata.namespace!;
    const ref: ObjectRef = { kind: 'Ingress', namespace: ns, name: ing.metadata.name };
    const isCanary = canaryMarker(ing.metadata.annotations) !== 'primary';
    // Annotation families, reused from the last build when nothing they read changed (policy-memo.ts).
    const read = readPolicy(ing, ref, sink, store, opts, isCanary);
    for (const c of read.clusters) clusters.set(c.name, c);
    for (const u of read.externalUrls) externalUrls.add(u);
    if (isCanary) {
      // A canary claims nothing; it is merged into its primaries' routes below (model/canary.ts).
      // Its other annotations are read for their diagnostics only: it inherits its primary's policy.
      canaries.push(ing);
      continue;
    }
    warnStrayCanaryKeys(ing, ref, sink);
    const spec = ing.spec ?? {};
    const rules = Array.isArray(spec.rules) ? spec.rules : [];
    if (spec.rules !== undefined && !Array.isArray(spec.rules)) sink.error('XG_INGRESS_INVALID', ref, 'spec.rules must be a list', 'spec.rules');
    const ingHosts: string[] = [];
    const { route: policy, host: hostPolicy } = read.policy;
    const withPolicy = policy ? { policy } : {};

    const action = (backend: IngressBackend | undefined, field: string): RouteAction | undefined => {
      if (policy?.failClosed) return { kind: 'direct', status: policy.failClosed.status, body: `xgate: ${policy.failClosed.reason}\n` };
      const imposed = policyAction(policy); // redirect or destination split (model/routing.ts)
      if (imposed) return imposed;
      const r = resolveBackend(ns, backend, store);
      if (r.ok) {
        clusters.set(r.cluster.name, r.cluster);
        return { kind: 'forward', backends: [{ cluster: r.cluster.name, weight: 1 }] };
      }
      sink.error(r.code, ref, r.servable ? `${r.message}; requests get 503 until it does` : r.message, field);
      return r.servable ? { kind: 'direct', status: 503, body: 'xgate: backend unavailable\n' } : undefined;
    };

    const appRootHosts = new Set<string>();
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
      const paths = rule.http?.paths;
      if (rule.http !== undefined && !Array.isArray(paths)) {
        sink.error('XG_INGRESS_INVALID', ref, 'http.paths must be a list', `${field}.http.paths`);
        return;
      }
      (paths ?? []).forEach((p, j) => {
        const pf = `${field}.http.paths[${j}]`;
        if (!p || typeof p !== 'object') {
          sink.error('XG_INGRESS_INVALID', ref, 'a path must be an object', pf);
          return;
        }
        if (policy?.customMatchInvalid) return; // reported by the match family: serving without the conditions would take others' traffic
        const pm = routePathMatch(p.path, p.pathType, policy);
        if (!pm.ok) {
          sink.error(pm.code, ref, pm.message, `${pf}.path`);
          return;
        }
        if (pm.warning) sink.warning('XG_INGRESS_PATH_REGEX_CHARS', ref, pm.warning, `${pf}.path`);
        const key = `${host}\u0000${pathKey(pm.match)}${matchKeySuffix(policy)}`;
        const prior = pathClaims.get(key);
        if (prior) {
          sink.error('XG_HOST_CONFLICT', ref, `host ${host} path ${pm.match.value} (${p.pathType ?? 'ImplementationSpecific'}) is already served by ${describe(prior.owner)}, which is older; this path is not served from here`, pf);
          return;
        }
        const isAppRoot = policy?.appRoot !== undefined && !policy.failClosed && !policy.redirect && pm.match.type === 'Exact' && pm.match.value === '/';
        const act = isAppRoot ? appRootAction(policy.appRoot!) : action(p.backend, `${pf}.backend`);
        if (!act) return;
        pathClaims.set(key, { owner: ref });
        const name = `${ns}/${ref.name}/${pathKey(pm.match)}`;
        const sk = specPathKey(p.path, p.pathType);
        if (sk && !policy?.customMatch && !canaryClaims.has(`${host}\u0000${sk}`)) canaryClaims.set(`${host}\u0000${sk}`, { owner: ref, route: name });
        const rp = routePolicy(policy, pm.match, act, sink, ref, `${pf}.path`);
        hostRoutes(hosts, host).routes.push({ name, match: routeMatch(pm.match, policy), action: act, source: ref, ...(rp ? { policy: rp } : {}) });
        // app-root: a request for exactly "/" on a host where this Ingress serves "/" is redirected.
        if (policy?.appRoot !== undefined && !isAppRoot && !policy.failClosed && !policy.redirect && !appRootHosts.has(host) && coversRoot(pm.match)) {
          appRootHosts.add(host);
          const rootKey = `${host}\u0000${pathKey(APP_ROOT_PATH)}${matchKeySuffix(policy)}`;
          const rootPrior = pathClaims.get(rootKey);
          if (rootPrior) {
            sink.warning('XG_ROUTING_IGNORED', ref, `app-root: host ${host} path "/" (Exact) is already served by ${describe(rootPrior.owner)}; "/" is not redirected there`, pf);
          } else {
            pathClaims.set(rootKey, { owner: ref });
            hostRoutes(hosts, host).routes.push({ name: `${ns}/${ref.name}/app-root`, match: routeMatch(APP_ROOT_PATH, policy), action: appRootAction(policy.appRoot), source: ref, ...withPolicy });
          }
        }
      });
    });

    if (spec.defaultBackend !== undefined && !policy?.customMatchInvalid) {
      const act = action(spec.defaultBackend, 'spec.defaultBackend');
      if (act) {
        for (const host of [CATCH_ALL_HOST, ...ingHosts.filter((h) => h !== CATCH_ALL_HOST)]) {
          const prior = fallbackClaims.get(host);
          if (prior) {
            if (host === CATCH_ALL_HOST) {
              sink.error('XG_DEFAULT_BACKEND_CONFLICT', ref, `the default backend is already given by ${describe(prior.owner)}, which is older`, 'spec.defaultBackend');
            }
            continue;
          }
          fallbackClaims.set(host, { owner: ref });
          hostRoutes(hosts, host).fallback = {
            name: `${ns}/${ref.name}/default-backend`,
            match: { path: { type: 'StringPrefix', value: '/' } },
            action: act,
            source: ref,
            ...withPolicy,
          };
        }
      }
    }

    const tls = Array.isArray(spec.tls) ? spec.tls : [];
    tls.forEach((t, i) => {
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
        const secret = `${ns}/${t.secretName}`;
        const prior = tlsClaims.get(h);
        if (prior) {
          if (prior.secret !== secret) {
            sink.error('XG_TLS_CONFLICT', ref, `TLS for host ${h} is already served with Secret ${prior.secret} by ${describe(prior.owner)}, which is older`, `${field}.hosts`);
          }
          continue;
        }
        tlsClaims.set(h, { secret, namespace: ns, secretName: t.secretName, owner: ref, field: `${field}.secretName` });
      }
    });
    if (hostPolicy) hostWishes.push({ source: ref, hosts: ingHosts, policy: hostPolicy });
    served.push(ref);
  }
  served.push(...mergeCanaries({ canaries, store, sink, hosts, claims: canaryClaims, catchAllHost: CATCH_ALL_HOST, addCluster: (c) => clusters.set(c.name, c) }));

  // Domain-level policies, per host, oldest Ingress first: see host-policy.ts.
  const hostPolicies: ReadonlyMap<string, HostPolicy> = mergeHostPolicies(hostWishes, sink);
  const tlsHosts: TlsHost[] = [];
  const secrets = new Map<string, TlsSecret>();
  const failedSecrets = new Set<string>();
  for (const [host, claim] of [...tlsClaims.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!secrets.has(claim.secret)) {
      const r = resolveTlsSecret(claim.namespace, claim.secretName, store);
      if (!r.ok) {
        if (!failedSecrets.has(`${claim.secret}\u0000${describe(claim.owner)}`)) {
          failedSecrets.add(`${claim.secret}\u0000${describe(claim.owner)}`);
          sink.error(r.code, claim.owner, `${r.message}; HTTPS is not served for host ${host}`, claim.field);
        }
        continue;
      }
      if (!hosts.has(host)) continue;
      secrets.set(claim.secret, r.secret);
    }
    if (!hosts.has(host)) continue;
    const hp = hostPolicies.get(host);
    tlsHosts.push({ host, secret: claim.secret, ...(hp ? { policy: hp } : {}) });
  }
  const tlsServed = new Set(tlsHosts.map((t) => t.host));

  const reusable = previousHosts;
  const virtualHosts: VirtualHost[] = [...hosts.entries()]
    .filter(([, hr]) => hr.routes.length > 0 || hr.fallback)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([host, hr]) => {
      const hp = hostPolicies.get(host);
      const vh: VirtualHost = {
        host,
        // HTTPS redirects (ssl-redirect, force-ssl-redirect) need to know whether the host is served over HTTPS.
        routes: withHttpsRedirects([...hr.routes.sort(compareRoutes), ...(hr.fallback ? [hr.fallback] : [])], tlsServed.has(host)),
        ...(hp ? { policy: hp } : {}),
      };
      const prior = reusable.get(host);
      return prior && sameData(prior, vh) ? prior : vh;
    });
  previousHosts = new Map(virtualHosts.map((vh) => [vh.host, vh]));

  // Cluster policies (warmup) from the Services and the served routes' Ingresses: see cluster-policy.ts.
  attachClusterPolicies(clusters, virtualHosts, served, store, sink);

  return {
    model: {
      virtualHosts,
      tlsHosts,
      clusters: [...clusters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      secrets: [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    },
    diagnostics: sink.items,
    ingresses: served,
    externalUrls: [...externalUrls].sort(),
  };
}

/**
 * The virtual hosts of the last build, by host. A host whose routes are equal in content to
 * the last build's keeps that VirtualHost object, so what is memoised by object downstream
 * (translateVirtualHost, the consistency check, the encoder's virtual host bytes) is reused for
 * every host a change did not touch. Model objects are never mutated once built.
 */
let previousHosts = new Map<string, VirtualHost>();


function hostRoutes(hosts: Map<string, HostRoutes>, host: string): HostRoutes {
  let hr = hosts.get(host);
  if (!hr) {
    hr = { routes: [] };
    hosts.set(host, hr);
  }
  return hr;
}

function validMeta(ing: Ingress, sink: DiagnosticSink): boolean {
  const ns = ing.metadata.namespace ?? '';
  const ref: ObjectRef = { kind: 'Ingress', namespace: ns, name: String(ing.metadata.name) };
  if (!isDnsLabel(ns)) {
    sink.error('XG_NAME_INVALID', ref, `namespace ${JSON.stringify(ns)} is not a DNS-1123 label`, 'metadata.namespace');
    return false;
  }
  if (!isDnsSubdomain(ing.metadata.name)) {
    sink.error('XG_NAME_INVALID', ref, `name ${JSON.stringify(ing.metadata.name)} is not a DNS-1123 subdomain`, 'metadata.name');
    return false;
  }
  return true;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Oldest first (creationTimestamp), then namespace, then name: the same after every restart. */
export function byPriority(a: Ingress, b: Ingress): number {
  const ta = TIMESTAMP.test(a.metadata.creationTimestamp ?? '') ? a.metadata.creationTimestamp! : '';
  const tb = TIMESTAMP.test(b.metadata.creationTimestamp ?? '') ? b.metadata.creationTimestamp! : '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function describe(ref: ObjectRef): string {
  return `Ingress ${ref.namespace}/${ref.name}`;
}
