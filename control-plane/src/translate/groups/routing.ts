// Translators and filter contributors of one feature area (see ../extension.ts).
// Matching, redirects and the destination split are in the core route translator
// (../route.ts); here only what the RouteAction carries.
import type { AreaTranslators } from '../extension.js';
import { applyRoutingRewrites } from '../policies/routing.js';

export const ROUTING_TRANSLATORS: AreaTranslators = { route: [applyRoutingRewrites] };
