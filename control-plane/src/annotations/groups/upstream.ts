// Annotation families of one area: load balancing, affinity, backend protocol, upstream and downstream TLS (issue 9).
import type { AnnotationFamily } from '../family.js';
import { loadBalancingFamily } from '../load-balance.js';
import { backendProtocolFamily } from '../backend-protocol.js';
import { downstreamTlsFamily } from '../downstream-tls.js';

export const UPSTREAM_FAMILIES: readonly AnnotationFamily[] = [loadBalancingFamily, backendProtocolFamily, downstreamTlsFamily];
