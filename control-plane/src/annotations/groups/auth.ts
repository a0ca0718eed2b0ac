// Annotation families of one area: JWT and Basic auth (issue 6).
import type { AnnotationFamily } from '../family.js';

export const AUTH_FAMILIES: readonly AnnotationFamily[] = [];
