// Translators and filter contributors of one feature area (see ../extension.ts).
// Traffic policies: CORS, header control, retries, mirroring, custom error pages.
import type { AreaTranslators, ResourceContributor } from '../extension.js';
import { FILTER_ORDER } from '../extension.js';
import { CORS_FILTER, CORS_TYPE, applyCors, applyHeaderControl, applyMirror, applyRetry } from '../traffic/route-policies.js';
import { CUSTOM_RESPONSE_FILTER, CUSTOM_RESPONSE_TYPE, addErrorRoutes, markCustomErrors } from '../traffic/custom-errors.js';

// The CORS filter is always present (a stable listener: enabling CORS on a route
// changes only RDS); without a per-route config it does nothing.
const CORS: ResourceContributor = {
  order: FILTER_ORDER.cors,
  httpFilters: () => [{ name: CORS_FILTER, typed_config: { '@type': CORS_TYPE } }],
};
// custom_response is marked work-in-progress by Envoy (outside its threat model), so it
// is listed only while some route uses it: the listeners change (and drain) when the
// first route with a default-backend appears and when the last one goes.
const CUSTOM_RESPONSE: ResourceContributor = {
  order: FILTER_ORDER.customResponse,
  httpFilters: (ctx) =>
    ctx.collect('traffic.custom-errors', (r, vh) => (r.policy?.customErrors && !r.policy.failClosed && vh.policy?.customErrorRoutes ? true : undefined)).length
      ? [{ name: CUSTOM_RESPONSE_FILTER, typed_config: { '@type': CUSTOM_RESPONSE_TYPE } }]
      : [],
};

export const TRAFFIC_TRANSLATORS: AreaTranslators = {
  route: [applyCors, applyHeaderControl, applyRetry, applyMirror, markCustomErrors],
  host: [addErrorRoutes],
  contributors: [CUSTOM_RESPONSE, CORS],
};
