// Envoy resources in the proto3 JSON mapping (what Envoy's YAML takes), by xDS type.
import type { JsonObject } from '../xds/encode.js';

export interface EnvoyResources {
  readonly listeners: readonly JsonObject[];
  readonly routes: readonly JsonObject[];
  readonly clusters: readonly JsonObject[];
  readonly endpoints: readonly JsonObject[];
  readonly secrets: readonly JsonObject[];
}

/** Resources per node group: `envoy` for proxies, `grpc` for proxyless gRPC clients. */
export type GroupResources = Readonly<Record<string, EnvoyResources>>;

export function resourceName(r: JsonObject): string {
  const n = r['name'] ?? r['cluster_name'];
  if (typeof n !== 'string') throw new Error('resource without a name');
  return n;
}
