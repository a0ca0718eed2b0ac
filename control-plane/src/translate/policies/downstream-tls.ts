// Per-domain downstream TLS: HostPolicy.tlsVersions / tlsCiphers / clientAuth → the
// host's HTTPS filter chain (DownstreamTlsContext; the client CA by SDS), and, with
// client certificates required or verified, VirtualHost.require_tls ALL so the host is
// not reachable around them on plain HTTP (such requests are redirected to HTTPS).
import type { HostPolicy, TlsHost } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import type { FilterContext, ResourceContributor } from '../extension.js';
import { adsSource } from '../well-known.js';

export function applyDownstreamTls(host: TlsHost, chain: JsonObject): void {
  const p = host.policy;
  if (!p || (!p.tlsVersions && !p.tlsCiphers && !p.clientAuth)) return;
  const ctx = (chain['transport_socket'] as JsonObject)['typed_config'] as JsonObject;
  const common = ctx['common_tls_context'] as JsonObject;
  if (p.tlsVersions || p.tlsCiphers) {
    common['tls_params'] = {
      ...(p.tlsVersions?.min ? { tls_minimum_protocol_version: p.tlsVersions.min } : {}),
      ...(p.tlsVersions?.max ? { tls_maximum_protocol_version: p.tlsVersions.max } : {}),
      ...(p.tlsCiphers ? { cipher_suites: [...p.tlsCiphers] } : {}),
    };
  }
  const a = p.clientAuth;
  if (!a) return;
  ctx['require_client_certificate'] = a.mode === 'on';
  common['combined_validation_context'] = {
    default_validation_context: {
      max_verify_depth: a.verifyDepth,
      ...(a.mode === 'optional_no_ca' ? { trust_chain_verification: 'ACCEPT_UNTRUSTED' } : {}),
    },
    validation_context_sds_secret_config: { name: a.ca.name, sds_config: adsSource() },
  };
  if (a.passCertificate) {
    const hcm = ((chain['filters'] as JsonObject[])[0]!['typed_config']) as JsonObject;
    hcm['forward_client_cert_details'] = 'SANITIZE_SET';
    hcm['set_current_client_cert_details'] = { subject: true, cert: true, dns: true, uri: true };
  }
}

/** Client certificates are checked on HTTPS only: plain HTTP requests to such a host are redirected. */
export function applyRequireTls(policy: HostPolicy, vhost: JsonObject): void {
  if (policy.clientAuth && policy.clientAuth.mode !== 'optional_no_ca') vhost['require_tls'] = 'ALL';
}

/** SDS secrets: the client CAs of the TLS hosts, the CAs and client certificates of upstream TLS clusters. */
export const tlsSecretsContributor: ResourceContributor = {
  order: 0,
  secrets(ctx: FilterContext): readonly JsonObject[] {
    const out = new Map<string, JsonObject>();
    const ca = (name: string, pem: string) => out.set(name, { name, validation_context: { trusted_ca: { inline_string: pem } } });
    for (const t of ctx.model.tlsHosts) {
      const a = t.policy?.clientAuth;
      if (a) ca(a.ca.name, a.ca.pem);
    }
    for (const c of ctx.model.clusters) {
      const t = c.policy?.upstream?.tls;
      if (!t) continue;
      if (t.verify && t.ca) ca(t.ca.name, t.ca.pem);
      if (t.client) {
        out.set(t.client.name, {
          name: t.client.name,
          tls_certificate: { certificate_chain: { inline_string: t.client.certificateChain }, private_key: { inline_string: t.client.privateKey } },
        });
      }
    }
    return [...out.values()];
  },
};
