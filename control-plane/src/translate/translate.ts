// Model → Envoy resources per node group. The only place that knows Envoy.
import type { EndpointModel, Model, VirtualHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { ENVOY_GROUP, GRPC_GROUP } from '../xds/cache/memory-cache.js';
import { translateCluster } from './cluster.js';
import { translateEndpoints } from './endpoint.js';
import { HTTP_ROUTE_CONFIG, apiListener, httpListener, httpsListener, httpsRouteConfigName } from './listener.js';
import type { TranslateOptions } from './options.js';
import type { EnvoyResources, GroupResources } from './resources.js';
import { translateRouteConfiguration } from './route.js';
import { translateSecret } from './secret.js';

export function translate(model: Model, endpoints: EndpointModel, opts: TranslateOptions): GroupResources {
  const clusters = model.clusters.map(translateCluster);
  const cla = translateEndpointModel(endpoints);
  const httpRoutes = translateRouteConfiguration(HTTP_ROUTE_CONFIG, model.virtualHosts);
  const byHost = new Map<string, VirtualHost>(model.virtualHosts.map((v) => [v.host, v]));
  const tlsHosts = model.tlsHosts.filter((t) => byHost.has(t.host));
  const httpsRoutes = tlsHosts.map((t) => translateRouteConfiguration(httpsRouteConfigName(t.host), [byHost.get(t.host)!]));

  const envoy: EnvoyResources = {
    listeners: [httpListener(opts), ...(tlsHosts.length ? [httpsListener(tlsHosts, opts)] : [])],
    routes: [httpRoutes, ...httpsRoutes],
    clusters,
    endpoints: cla,
    secrets: model.secrets.map(translateSecret),
  };
  const grpc: EnvoyResources = {
    listeners: model.virtualHosts.filter((v) => !v.host.includes('*')).map((v) => apiListener(v.host)),
    routes: [httpRoutes],
    clusters,
    endpoints: cla,
    secrets: [],
  };
  return { [ENVOY_GROUP]: envoy, [GRPC_GROUP]: grpc };
}

export function translateEndpointModel(endpoints: EndpointModel): JsonObject[] {
  return endpoints.clusters.map(translateEndpoints);
}
