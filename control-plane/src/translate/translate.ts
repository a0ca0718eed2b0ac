// Model → Envoy resources per node group. The only place that knows Envoy.
import type { Cluster, ClusterEndpoints, EndpointModel, Model, TlsSecret, VirtualHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { ENVOY_GROUP, GRPC_GROUP } from '../xds/cache/memory-cache.js';
import { proxylessCluster, translateCluster } from './cluster.js';
import { translateEndpoints } from './endpoint.js';
import { HTTP_ROUTE_CONFIG, apiListener, httpListener, httpsListeners, httpsRouteConfigName } from './listener.js';
import type { TranslateOptions } from './options.js';
import { resourceName, type EnvoyResources, type GroupResources } from './resources.js';
import { proxylessRouteConfiguration, translateRouteConfiguration } from './route.js';
import { translateSecret } from './secret.js';
import { contributedResources } from './contributions.js';
import { sameData } from '../model/same-data.js';

export function translate(model: Model, endpoints: EndpointModel, opts: TranslateOptions): GroupResources {
  const clusters = model.clusters.map((c) => clusterMemo.get(c.name, c, sameData, translateCluster));
  clusterMemo.rotate();
  const cla = translateGroupEndpoints(endpoints);
  const httpRoutes = routeMemo.get(HTTP_ROUTE_CONFIG, model.virtualHosts, sameElements, (v) => translateRouteConfiguration(HTTP_ROUTE_CONFIG, v));
  const byHost = new Map<string, VirtualHost>(model.virtualHosts.map((v) => [v.host, v]));
  const tlsHosts = model.tlsHosts.filter((t) => byHost.has(t.host));
  const httpsRoutes = tlsHosts.map((t) => {
    const name = httpsRouteConfigName(t.host);
    return routeMemo.get(name, [byHost.get(t.host)!], sameElements, (v) => translateRouteConfiguration(name, v));
  });
  routeMemo.rotate();

  const extra = contributedResources(model, opts);
  // Each HTTPS filter chain serves one host's route configuration: its connection manager
  // leaves out the filters listed `disabled: true` that no route of that host enables
  // (one ext_authz or oauth2 instance per auth service would otherwise be repeated in
  // every chain). What each host enables is part of the listener memo's input.
  // Contributed clusters and secrets are built afresh by their contributors: keep the last build's object when equal.
  const extraClusters = extra.clusters.map((c) => extraMemo.get(`c\u0000${resourceName(c)}`, c, sameData, (x) => x));
  const extraSecrets = extra.secrets.map((c) => extraMemo.get(`s\u0000${resourceName(c)}`, c, sameData, (x) => x));
  extraMemo.rotate();
  const enabled = new Map<string, readonly string[]>(tlsHosts.map((t, i) => [t.host, enabledFilters(httpsRoutes[i]!)]));
  const hostsEnabling = tlsHosts.map((t) => enabled.get(t.host)!);

  const listeners = [
    listenerMemo.get('http', [opts, extra.httpFilters], sameData, () => httpListener(opts, extra.httpFilters)),
    ...httpsListenersMemo.get('https', [tlsHosts, opts, extra.httpFilters, hostsEnabling], sameData, () =>
      httpsListeners(tlsHosts, opts, (host) => chainFilters(extra.httpFilters, enabled.get(host)!)),
    ),
  ];
  httpsListenersMemo.rotate();
  listenerMemo.rotate();
  const secrets = model.secrets.map((s) => secretMemo.get(s.name, s, sameData, translateSecret));
  secretMemo.rotate();
  const envoy: EnvoyResources = {
    listeners,
    routes: [httpRoutes, ...httpsRoutes],
    clusters: extra.clusters.length ? [...clusters, ...extraClusters] : clusters,
    endpoints: cla[ENVOY_GROUP]!,
    secrets: extra.secrets.length ? [...secrets, ...extraSecrets] : secrets,
  };
  const grpc: EnvoyResources = {
    listeners: model.virtualHosts.filter((v) => !v.host.includes('*')).map((v) => apiListenerMemo.get(v.host, v.host, Object.is, apiListener)),
    routes: [proxylessRoutesOf(httpRoutes)],
    clusters: clusters.map(proxylessClusterOf),
    endpoints: cla[GRPC_GROUP]!,
    secrets: [],
  };
  apiListenerMemo.rotate();
  return { [ENVOY_GROUP]: envoy, [GRPC_GROUP]: grpc };
}

/** The Envoy-shaped ClusterLoadAssignments (group "envoy"). */
export function translateEndpointModel(endpoints: EndpointModel): JsonObject[] {
  const out = endpoints.clusters.map((ce) => endpointMemo.get(ce.cluster, ce, sameData, translateEndpoints));
  endpointMemo.rotate();
  return out;
}

/**
 * The ClusterLoadAssignments of every group. An endpoints-only rebuild must use this
 * too: the "grpc" group's differ from Envoy's (see proxylessEndpoints).
 */
export function translateGroupEndpoints(endpoints: EndpointModel): Record<string, JsonObject[]> {
  const cla = translateEndpointModel(endpoints);
  return { [ENVOY_GROUP]: cla, [GRPC_GROUP]: cla.map(proxylessOf) };
}

// ---- reuse of the previous translation's objects ----
//
// Translation is pure, but the model hands it fresh objects on every build (a Cluster,
// ClusterEndpoints or TlsSecret is rebuilt from the store each time). Each memo below
// keeps, per resource name, the input and output of the previous translation; an input
// equal in content gives back the previous output object. The same object downstream
// means O(1) work per unchanged resource: the consistency check and the snapshot
// encoder memoise by object. Outputs are never mutated once built. A memo only holds
// what the last translation produced (rotate() drops the rest), so it never grows.

class ReuseMemo<I, O> {
  private prev = new Map<string, { readonly input: I; readonly output: O }>();
  private next = new Map<string, { readonly input: I; readonly output: O }>();

  get(key: string, input: I, same: (a: I, b: I) => boolean, make: (input: I) => O): O {
    const hit = this.next.get(key) ?? this.prev.get(key);
    if (hit && same(hit.input, input)) {
      this.next.set(key, hit);
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

const clusterMemo = new ReuseMemo<Cluster, JsonObject>();
const endpointMemo = new ReuseMemo<ClusterEndpoints, JsonObject>();
const secretMemo = new ReuseMemo<TlsSecret, JsonObject>();
const routeMemo = new ReuseMemo<readonly VirtualHost[], JsonObject>();
const listenerMemo = new ReuseMemo<readonly unknown[], JsonObject>();
const apiListenerMemo = new ReuseMemo<string, JsonObject>();
const extraMemo = new ReuseMemo<JsonObject, JsonObject>();
const httpsListenersMemo = new ReuseMemo<readonly unknown[], JsonObject[]>();
const proxylessClusters = new WeakMap<JsonObject, JsonObject>();
const proxylessRoutes = new WeakMap<JsonObject, JsonObject>();

function proxylessClusterOf(c: JsonObject): JsonObject {
  let out = proxylessClusters.get(c);
  if (!out) proxylessClusters.set(c, (out = proxylessCluster(c)));
  return out;
}

/** The route configuration proxyless gRPC clients can take (see proxylessRouteConfiguration). */
function proxylessRoutesOf(rc: JsonObject): JsonObject {
  let out = proxylessRoutes.get(rc);
  if (!out) proxylessRoutes.set(rc, (out = proxylessRouteConfiguration(rc)));
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

/** The same objects in the same order (model VirtualHosts are reused by the model when unchanged). */
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
