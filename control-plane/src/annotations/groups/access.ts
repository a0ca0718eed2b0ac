// Annotation families of one area: IP allow/deny lists, WAF, rate limits (issue 7).
import type { AnnotationFamily } from '../family.js';
import { ipAccessFamily } from '../access/ip-access.js';
import { rateLimitFamily } from '../access/rate-limit.js';
import { wafFamily } from '../access/waf.js';

export const ACCESS_FAMILIES: readonly AnnotationFamily[] = [ipAccessFamily, wafFamily, rateLimitFamily];
