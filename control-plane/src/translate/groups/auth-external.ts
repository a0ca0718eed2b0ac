// Translators and filter contributors of one feature area (see ../extension.ts):
// external auth (ext_authz) and OIDC (oauth2).
import type { AreaTranslators } from '../extension.js';
import { EXT_AUTHZ_CONTRIBUTORS, EXT_AUTHZ_ROUTE_TRANSLATORS } from '../auth-external/ext-authz.js';
import { OAUTH2_CONTRIBUTORS, OAUTH2_ROUTE_TRANSLATORS } from '../auth-external/oauth2.js';

export const AUTH_EXTERNAL_TRANSLATORS: AreaTranslators = {
  route: [...EXT_AUTHZ_ROUTE_TRANSLATORS, ...OAUTH2_ROUTE_TRANSLATORS],
  contributors: [...EXT_AUTHZ_CONTRIBUTORS, ...OAUTH2_CONTRIBUTORS],
};
