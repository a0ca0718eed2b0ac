// Envoy resources in the proto3 JSON mapping (what Envoy's YAML takes), by xDS type.
import type { JsonObject } from '../xds/encode.js';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SCOPED_ROUTE, SECRET, type TypeUrl } from '../xds/type-urls.js';

export interface EnvoyResources {
  readonly listeners: readonly JsonObject[];
  readonly routes: readonly JsonObject[];
  /** Scoped route configurations (SRDS): only with route shards (translate/route-shards.ts). */
  readonly scopedRoutes?: readonly JsonObject[];
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

/** The field of EnvoyResources holding each xDS type. */
export const RESOURCE_FIELDS: Readonly<Record<TypeUrl, keyof EnvoyResources>> = {
  [LISTENER]: 'listeners',
  [ROUTE]: 'routes',
  [SCOPED_ROUTE]: 'scopedRoutes',
  [CLUSTER]: 'clusters',
  [ENDPOINT]: 'endpoints',
  [SECRET]: 'secrets',
};

const NONE: readonly JsonObject[] = [];

/** The resources of one xDS type (an optional type left out: none). */
export function resourcesOf(r: EnvoyResources, typeUrl: TypeUrl): readonly JsonObject[] {
  return r[RESOURCE_FIELDS[typeUrl]] ?? NONE;
}
