// Translators and filter contributors of one feature area (see ../extension.ts).
// The cluster-level parts (lb_policy, upstream protocol and TLS) are applied by
// translate/cluster.ts itself, in order, before slow start.
import type { AreaTranslators } from '../extension.js';
import { applyHashPolicy } from '../policies/load-balancing.js';
import { applyDownstreamTls, applyRequireTls, tlsSecretsContributor } from '../policies/downstream-tls.js';

export const UPSTREAM_TRANSLATORS: AreaTranslators = {
  route: [applyHashPolicy],
  host: [applyRequireTls],
  tls: [applyDownstreamTls],
  contributors: [tlsSecretsContributor],
};
