// TlsSecret → SDS Secret.
import type { TlsSecret } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';

export function translateSecret(s: TlsSecret): JsonObject {
  return {
    name: s.name,
    tls_certificate: {
      certificate_chain: { inline_string: s.certificateChain },
      private_key: { inline_string: s.privateKey },
    },
  };
}
