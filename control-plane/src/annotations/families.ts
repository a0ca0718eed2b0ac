// Every annotation family, in the order they are read. Add a family here and in
// translate/policies.ts; each lives in its own files.
import type { AnnotationFamily } from './family.js';
import { canaryKeysFamily } from './canary.js';
import { timeoutFamily } from './timeout.js';
import { warmupFamily } from './warmup.js';

export const FAMILIES: readonly AnnotationFamily[] = [canaryKeysFamily, timeoutFamily, warmupFamily];
