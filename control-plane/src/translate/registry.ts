// Every area's translators, merged in a fixed order (the order policies apply in).
import type {
  AreaTranslators,
  ClusterPolicyTranslator,
  HostPolicyTranslator,
  ResourceContributor,
  RoutePolicyTranslator,
  TlsHostTranslator,
} from './extension.js';
import { applyTimeout } from './policies/timeout.js';
import { ROUTING_TRANSLATORS } from './groups/routing.js';
import { TRAFFIC_TRANSLATORS } from './groups/traffic.js';
import { UPSTREAM_TRANSLATORS } from './groups/upstream.js';
import { ACCESS_TRANSLATORS } from './groups/access.js';
import { AUTH_TRANSLATORS } from './groups/auth.js';
import { AUTH_EXTERNAL_TRANSLATORS } from './groups/auth-external.js';

const AREAS: readonly AreaTranslators[] = [
  { route: [applyTimeout] },
  ROUTING_TRANSLATORS,
  TRAFFIC_TRANSLATORS,
  UPSTREAM_TRANSLATORS,
  ACCESS_TRANSLATORS,
  AUTH_TRANSLATORS,
  AUTH_EXTERNAL_TRANSLATORS,
];

export const ROUTE_TRANSLATORS: readonly RoutePolicyTranslator[] = AREAS.flatMap((a) => a.route ?? []);
export const HOST_TRANSLATORS: readonly HostPolicyTranslator[] = AREAS.flatMap((a) => a.host ?? []);
export const TLS_TRANSLATORS: readonly TlsHostTranslator[] = AREAS.flatMap((a) => a.tls ?? []);
export const CLUSTER_TRANSLATORS: readonly ClusterPolicyTranslator[] = AREAS.flatMap((a) => a.cluster ?? []);
/** Sorted by order (stable: area order breaks ties). */
export const CONTRIBUTORS: readonly ResourceContributor[] = AREAS.flatMap((a) => a.contributors ?? [])
  .map((c, i) => ({ c, i }))
  .sort((a, b) => a.c.order - b.c.order || a.i - b.i)
  .map(({ c }) => c);
