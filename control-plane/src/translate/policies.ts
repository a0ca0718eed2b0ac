// Route policies → Envoy route fields, one function per annotation family. Each
// receives the route as already translated and adds what its family asks for.
import type { RoutePolicy } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import { applyTimeout } from './policies/timeout.js';

export type RoutePolicyTranslator = (policy: RoutePolicy, route: JsonObject) => void;

const ROUTE_POLICIES: readonly RoutePolicyTranslator[] = [applyTimeout];

export function applyRoutePolicies(policy: RoutePolicy | undefined, route: JsonObject): void {
  if (!policy) return;
  for (const apply of ROUTE_POLICIES) apply(policy, route);
}
