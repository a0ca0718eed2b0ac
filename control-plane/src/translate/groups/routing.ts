// Translators and filter contributors of one feature area (see ../extension.ts).
import type { AreaTranslators } from '../extension.js';

export const ROUTING_TRANSLATORS: AreaTranslators = {};
