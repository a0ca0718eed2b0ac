// Value grammars shared by the downstream (per-domain) and upstream (proxy-ssl-*) TLS
// keys: protocol versions and cipher lists, checked against what Envoy 1.39 (BoringSSL)
// accepts, so a value can never make Envoy reject a listener or cluster.

export type TlsVersion = 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3';
export const TLS_VERSION_ORDER: readonly TlsVersion[] = ['TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'];

/** `TLSv1.2`, `TLSv1_2`, `1.2`, `TLS1.2` (any case) → Envoy's enum name. */
export function parseTlsVersion(value: string): TlsVersion | undefined {
  const m = /^(?:tls\s*v?)?1[._]([0-3])$/i.exec(value.trim());
  return m ? TLS_VERSION_ORDER[Number(m[1])] : undefined;
}

/** nginx `ssl_protocols`-style list (`TLSv1.2 TLSv1.3`): the lowest and highest version named. */
export function parseTlsVersionList(value: string): { min: TlsVersion; max: TlsVersion } | { why: string } {
  const parts = value.trim().split(/[\s,]+/).filter(Boolean);
  if (!parts.length || parts.length > 4) return { why: 'must list 1 to 4 TLS versions (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)' };
  const idx: number[] = [];
  for (const p of parts) {
    const v = parseTlsVersion(/^tlsv1$/i.test(p) ? 'TLSv1.0' : p);
    if (!v) return { why: `${JSON.stringify(p)} is not a TLS version (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)` };
    idx.push(TLS_VERSION_ORDER.indexOf(v));
  }
  return { min: TLS_VERSION_ORDER[Math.min(...idx)]!, max: TLS_VERSION_ORDER[Math.max(...idx)]! };
}

/**
 * TLS 1.0–1.2 cipher suites Envoy 1.39 (BoringSSL) accepts in `tls_params.cipher_suites`
 * (each checked with `envoy --mode validate`), minus the PSK suites (xgate configures no
 * pre-shared keys) and 3DES (weak). A name outside this list makes Envoy reject the
 * whole listener or cluster, so anything else is refused before it gets there.
 */
export const ENVOY_CIPHERS: ReadonlySet<string> = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA',
  'AES256-SHA',
]);

/** TLS 1.3 suites: BoringSSL does not let them be configured. */
const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256']);

/**
 * An OpenSSL-style cipher list (`A:B:C`, also `,` or space separated) of explicit suite
 * names. Rules (`HIGH`, `!aNULL`, `+RSA`, `@STRENGTH`) are refused: BoringSSL's rule
 * language differs from OpenSSL's and a list must mean the same in both.
 */
export function parseCipherList(value: string): { ciphers: string[] } | { why: string } {
  const parts = value.trim().split(/[\s:,]+/).filter(Boolean);
  if (!parts.length) return { why: 'names no cipher suite' };
  if (parts.length > 32) return { why: 'names more than 32 cipher suites' };
  const out: string[] = [];
  for (const p of parts) {
    if (TLS13_SUITES.has(p)) return { why: `${p} is a TLS 1.3 suite: TLS 1.3 suites are not configurable in Envoy (BoringSSL); list TLS 1.2 suites only` };
    if (!ENVOY_CIPHERS.has(p)) {
      if (/^[!+\-@]|^(ALL|HIGH|MEDIUM|LOW|DEFAULT|COMPLEMENTOFDEFAULT|aNULL|eNULL|kRSA|RSA|ECDHE|AESGCM)$/.test(p)) {
        return { why: `${JSON.stringify(p)} is an OpenSSL cipher rule: list explicit suite names (e.g. ECDHE-RSA-AES128-GCM-SHA256)` };
      }
      return { why: `${JSON.stringify(p.slice(0, 64))} is not a cipher suite Envoy accepts (e.g. ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384, ECDHE-RSA-CHACHA20-POLY1305)` };
    }
    if (!out.includes(p)) out.push(p);
  }
  return { ciphers: out };
}

/** `name` or `namespace/name` naming a Secret in `namespace` (same namespace only). */
export function parseSecretRef(value: string, namespace: string): { name: string } | { why: string } {
  const s = value.trim();
  const m = /^(?:([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/.exec(s);
  if (!m) return { why: 'must be a Secret name or namespace/name' };
  if (m[1] !== undefined && m[1] !== namespace) return { why: `names a Secret in namespace ${m[1]}: only Secrets in the Ingress's own namespace (${namespace}) are used` };
  return { name: m[3]! };
}

export function parseOnOff(value: string): boolean | undefined {
  const s = value.trim().toLowerCase();
  if (s === 'on' || s === 'true') return true;
  if (s === 'off' || s === 'false') return false;
  return undefined;
}
