// Annotation families of one area: external auth (ext_authz) and OIDC (issue 6).
import type { AnnotationFamily } from '../family.js';
import { extAuthFamily } from '../auth-external/ext-auth.js';
import { oidcFamily } from '../auth-external/oidc.js';

export const AUTH_EXTERNAL_FAMILIES: readonly AnnotationFamily[] = [extAuthFamily, oidcFamily];
