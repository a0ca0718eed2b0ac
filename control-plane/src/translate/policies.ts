// Applies the registered policy translators (translate/registry.ts) to the resources
// the core translators built.
import type { Cluster, HostPolicy, RoutePolicy, TlsHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import type { TranslateOptions } from './options.js';
import { CLUSTER_TRANSLATORS, HOST_TRANSLATORS, ROUTE_TRANSLATORS, TLS_TRANSLATORS } from './registry.js';

export function applyRoutePolicies(policy: RoutePolicy | undefined, route: JsonObject): void {
  if (!policy) return;
  for (const apply of ROUTE_TRANSLATORS) apply(policy, route);
}

export function applyHostPolicies(policy: HostPolicy | undefined, vhost: JsonObject): void {
  if (!policy) return;
  for (const apply of HOST_TRANSLATORS) apply(policy, vhost);
}

export function applyTlsPolicies(host: TlsHost, chain: JsonObject, opts: TranslateOptions): void {
  for (const apply of TLS_TRANSLATORS) apply(host, chain, opts);
}

export function applyClusterPolicies(cluster: Cluster, out: JsonObject): void {
  for (const apply of CLUSTER_TRANSLATORS) apply(cluster, out);
}
