// Translators and filter contributors of one feature area (see ../extension.ts):
// IP allow/deny lists (RBAC), the WAF (Wasm), rate limits (local_ratelimit). Issue 7.
import type { AreaTranslators } from '../extension.js';
import { applyHostIpAccess, applyRouteIpAccess, rbacContributor } from '../access/rbac.js';
import { applyRouteRateLimit, rateLimitContributor } from '../access/rate-limit.js';
import { applyRouteWaf, wafContributor } from '../access/waf.js';

export const ACCESS_TRANSLATORS: AreaTranslators = {
  route: [applyRouteIpAccess, applyRouteWaf, applyRouteRateLimit],
  host: [applyHostIpAccess],
  contributors: [rbacContributor, rateLimitContributor, wafContributor],
};
