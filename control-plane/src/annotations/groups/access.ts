// Annotation families of one area: IP allow/deny lists, WAF, rate limits (issue 7).
import type { AnnotationFamily } from '../family.js';

export const ACCESS_FAMILIES: readonly AnnotationFamily[] = [];
