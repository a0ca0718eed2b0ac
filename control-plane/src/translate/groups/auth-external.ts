// Translators and filter contributors of one feature area (see ../extension.ts).
import type { AreaTranslators } from '../extension.js';

export const AUTH_EXTERNAL_TRANSLATORS: AreaTranslators = {};
