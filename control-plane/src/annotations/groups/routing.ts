// Annotation families of one area: matching, rewrites, redirects, destination split (issue 9).
import type { AnnotationFamily } from '../family.js';
import { pathFamily } from '../routing/path.js';
import { matchFamily } from '../routing/match.js';
import { redirectFamily } from '../routing/redirect.js';
import { destinationFamily } from '../routing/destination.js';

export const ROUTING_FAMILIES: readonly AnnotationFamily[] = [pathFamily, matchFamily, redirectFamily, destinationFamily];
