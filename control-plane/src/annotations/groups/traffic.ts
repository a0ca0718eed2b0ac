// Annotation families of one area: CORS, header control, retries, mirroring, custom errors (issue 9).
import type { AnnotationFamily } from '../family.js';

export const TRAFFIC_FAMILIES: readonly AnnotationFamily[] = [];
