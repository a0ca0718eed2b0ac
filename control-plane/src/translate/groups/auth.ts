// Translators and filter contributors of one feature area (see ../extension.ts).
import type { AreaTranslators } from '../extension.js';
import { applyBasicAuth, basicAuthContributor } from '../policies/auth-basic.js';
import { applyJwt, jwtContributor } from '../policies/auth-jwt.js';

export const AUTH_TRANSLATORS: AreaTranslators = {
  route: [applyBasicAuth, applyJwt],
  contributors: [basicAuthContributor, jwtContributor],
};
