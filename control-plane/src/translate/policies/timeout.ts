// timeoutSeconds → RouteAction.timeout.
import type { RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';

export function applyTimeout(policy: RoutePolicy, route: JsonObject): void {
  if (policy.timeoutSeconds === undefined) return;
  const action = route['route'] as JsonObject | undefined;
  if (action) action['timeout'] = `${policy.timeoutSeconds}s`;
}
