// Annotation families of one area: CORS, header control, retries, mirroring, custom errors (issue 9).
import type { AnnotationFamily } from '../family.js';
import { corsFamily } from '../traffic/cors.js';
import { customErrorsFamily } from '../traffic/custom-errors.js';
import { headerControlFamily } from '../traffic/headers.js';
import { mirrorFamily } from '../traffic/mirror.js';
import { retryFamily } from '../traffic/retry.js';

export const TRAFFIC_FAMILIES: readonly AnnotationFamily[] = [corsFamily, headerControlFamily, retryFamily, mirrorFamily, customErrorsFamily];
