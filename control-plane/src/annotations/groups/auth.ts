// Annotation families of one area: JWT and Basic auth (issue 6).
import type { AnnotationFamily } from '../family.js';
import { basicAuthFamily } from '../auth-basic.js';
import { jwtFamily } from '../auth-jwt.js';

export const AUTH_FAMILIES: readonly AnnotationFamily[] = [basicAuthFamily, jwtFamily];
