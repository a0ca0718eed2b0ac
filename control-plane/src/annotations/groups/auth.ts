// Annotation families of one area: JWT, OIDC, Basic and external auth (issue 6).
import type { AnnotationFamily } from '../family.js';

export const AUTH_FAMILIES: readonly AnnotationFamily[] = [];
