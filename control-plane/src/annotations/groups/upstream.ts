// Annotation families of one area: load balancing, affinity, backend protocol, upstream and downstream TLS (issue 9).
import type { AnnotationFamily } from '../family.js';

export const UPSTREAM_FAMILIES: readonly AnnotationFamily[] = [];
