// Every annotation family, in the order they are read. Each area keeps its families
// in its own group file (groups/*.ts), so areas never edit a shared list.
import type { AnnotationFamily } from './family.js';
import { canaryKeysFamily } from './canary.js';
import { timeoutFamily } from './timeout.js';
import { warmupFamily } from './warmup.js';
import { AUTH_FAMILIES } from './groups/auth.js';
import { AUTH_EXTERNAL_FAMILIES } from './groups/auth-external.js';
import { ACCESS_FAMILIES } from './groups/access.js';
import { ROUTING_FAMILIES } from './groups/routing.js';
import { TRAFFIC_FAMILIES } from './groups/traffic.js';
import { UPSTREAM_FAMILIES } from './groups/upstream.js';

export const FAMILIES: readonly AnnotationFamily[] = [
  canaryKeysFamily,
  timeoutFamily,
  warmupFamily,
  ...ROUTING_FAMILIES,
  ...TRAFFIC_FAMILIES,
  ...UPSTREAM_FAMILIES,
  ...ACCESS_FAMILIES,
  ...AUTH_FAMILIES,
  ...AUTH_EXTERNAL_FAMILIES,
];
