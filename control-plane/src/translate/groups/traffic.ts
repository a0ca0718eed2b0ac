// Translators and filter contributors of one feature area (see ../extension.ts).
// Traffic policies: CORS, header control, retries, mirroring, custom error pages.
import type { AreaTranslators, ResourceContributor } from '../extension.js';
import { FILTER_ORDER } from '../extension.js';
import { CORS_FILTER, CORS_TYPE, applyCors, applyHeaderControl, applyMirror, applyRetry } from '../traffic/route-policies.js';
import { CUSTOM_RESPONSE_FILTER, CUSTOM_RESPONSE_TYPE, addErrorRoutes, markCustomErrors } from '../traffic/custom-errors.js';

// Both filters are always present (a stable listener: enabling CORS or custom errors
// on a route changes only RDS); without a per-route config they do nothing.
const CORS: ResourceContributor = {
  order: FILTER_ORDER.cors,
  httpFilters: () => [{ name: CORS_FILTER, typed_config: { '@type': CORS_TYPE } }],
};
const CUSTOM_RESPONSE: ResourceContributor = {
  order: FILTER_ORDER.customResponse,
  httpFilters: () => [{ name: CUSTOM_RESPONSE_FILTER, typed_config: { '@type': CUSTOM_RESPONSE_TYPE } }],
};

export const TRAFFIC_TRANSLATORS: AreaTranslators = {
  route: [applyCors, applyHeaderControl, applyRetry, applyMirror, markCustomErrors],
  host: [addErrorRoutes],
  contributors: [CUSTOM_RESPONSE, CORS],
};
