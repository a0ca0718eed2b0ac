// Annotation families of one area: matching, rewrites, redirects, destination split (issue 9).
import type { AnnotationFamily } from '../family.js';

export const ROUTING_FAMILIES: readonly AnnotationFamily[] = [];
