// Model → Envoy resources per node group. The only place that knows Envoy.
import type { EndpointModel, Model, VirtualHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { ENVOY_GROUP, GRPC_GROUP } from '../xds/cache/memory-cache.js';
import { proxylessCluster, translateCluster } from './cluster.js';
import { translateEndpoints } from './endpoint.js';
import { HTTP_ROUTE_CONFIG, apiListener, httpListener, httpsListeners, httpsRouteConfigName } from './listener.js';
import type { TranslateOptions } from './options.js';
import type { EnvoyResources, GroupResources } from './resources.js';
import { translateRouteConfiguration } from './route.js';
import { translateSecret } from './secret.js';
import { contributedResources } from './contributions.js';

export function translate(model: Model, endpoints: EndpointModel, opts: TranslateOptions): GroupResources {
  const clusters = model.clusters.map(translateCluster);
  const cla = translateGroupEndpoints(endpoints);
  const httpRoutes = translateRouteConfiguration(HTTP_ROUTE_CONFIG, model.virtualHosts);
  const byHost = new Map<string, VirtualHost>(model.virtualHosts.map((v) => [v.host, v]));
  const tlsHosts = model.tlsHosts.filter((t) => byHost.has(t.host));
  const httpsRoutes = tlsHosts.map((t) => translateRouteConfiguration(httpsRouteConfigName(t.host), [byHost.get(t.host)!]));

  const extra = contributedResources(model, opts);

  const envoy: EnvoyResources = {
    listeners: [httpListener(opts, extra.httpFilters), ...httpsListeners(tlsHosts, opts, extra.httpFilters)],
    routes: [httpRoutes, ...httpsRoutes],
    clusters: extra.clusters.length ? [...clusters, ...extra.clusters] : clusters,
    endpoints: cla[ENVOY_GROUP]!,
    secrets: extra.secrets.length ? [...model.secrets.map(translateSecret), ...extra.secrets] : model.secrets.map(translateSecret),
  };
  const grpc: EnvoyResources = {
    listeners: model.virtualHosts.filter((v) => !v.host.includes('*')).map((v) => apiListener(v.host)),
    routes: [httpRoutes],
    clusters: clusters.map(proxylessCluster),
    endpoints: cla[GRPC_GROUP]!,
    secrets: [],
  };
  return { [ENVOY_GROUP]: envoy, [GRPC_GROUP]: grpc };
}

/** The Envoy-shaped ClusterLoadAssignments (group "envoy"). */
export function translateEndpointModel(endpoints: EndpointModel): JsonObject[] {
  return endpoints.clusters.map(translateEndpoints);
}

/**
 * The ClusterLoadAssignments of every group. An endpoints-only rebuild must use this
 * too: the "grpc" group's differ from Envoy's (see proxylessEndpoints).
 */
export function translateGroupEndpoints(endpoints: EndpointModel): Record<string, JsonObject[]> {
  const cla = translateEndpointModel(endpoints);
  return { [ENVOY_GROUP]: cla, [GRPC_GROUP]: cla.map(proxylessEndpoints) };
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
