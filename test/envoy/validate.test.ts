// validateWithEnvoy() against the real Envoy binary (no skip when it is missing).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';
import { buildValidationBootstrap, validateWithEnvoy, type EnvoyResources } from '../../envoy/validate.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const ads = (): JsonObject => ({ ads: {}, resource_api_version: 'V3' });

function selfSigned(host: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', `/CN=${host}`,
    ], { stdio: 'pipe' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hcm(statPrefix: string, routeConfigName: string): JsonObject {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM,
      stat_prefix: statPrefix,
      rds: { route_config_name: routeConfigName, config_source: ads() },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
    },
  };
}

function routeConfig(name: string, extraRoutes: JsonObject[] = []): JsonObject {
  return {
    name,
    virtual_hosts: [
      {
        name: 'example.com',
        domains: ['example.com'],
        routes: [
          ...extraRoutes,
          // "on" would be read as a boolean by a YAML 1.1 loader if it were not quoted.
          { match: { prefix: '/', headers: [{ name: 'x-flag', string_match: { exact: 'on' } }] }, route: { cluster: 'default/web/80' } },
          { match: { prefix: '/' }, route: { cluster: 'default/web/80' } },
        ],
      },
    ],
  };
}

let cert: { cert: string; key: string };

function validResources(): EnvoyResources {
  return {
    listeners: [
      {
        name: 'http',
        address: { socket_address: { address: '0.0.0.0', port_value: 8080 } },
        filter_chains: [{ filters: [hcm('http', 'http')] }],
      },
      {
        name: 'https',
        address: { socket_address: { address: '0.0.0.0', port_value: 8443 } },
        listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' } }],
        filter_chains: [
          {
            filter_chain_match: { server_names: ['example.com'] },
            transport_socket: {
              name: 'envoy.transport_sockets.tls',
              typed_config: { '@type': TLS, common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default/example-tls', sds_config: ads() }] } },
            },
            filters: [hcm('https', 'https/example.com')],
          },
        ],
      },
      // A proxyless gRPC API listener: left out of the static bootstrap.
      { name: 'grpc.example.com', api_listener: { api_listener: hcm('grpc', 'grpc-only')['typed_config']! } },
    ],
    routes: [routeConfig('http'), routeConfig('https/example.com'), routeConfig('grpc-only')],
    clusters: [
      { name: 'default/web/80', type: 'EDS', eds_cluster_config: { eds_config: ads() }, connect_timeout: '5s', lb_policy: 'ROUND_ROBIN' },
      { name: 'default/empty/80', type: 'EDS', eds_cluster_config: { eds_config: ads() }, connect_timeout: '5s' },
    ],
    endpoints: [
      {
        cluster_name: 'default/web/80',
        endpoints: [
          {
            locality: { zone: 'a' },
            lb_endpoints: [
              { endpoint: { address: { socket_address: { address: '127.0.0.2', port_value: 9001 } } }, health_status: 'HEALTHY' },
              { endpoint: { address: { socket_address: { address: '127.0.0.3', port_value: 9001 } } }, health_status: 'DRAINING' },
            ],
          },
        ],
      },
    ],
    secrets: [{ name: 'default/example-tls', tls_certificate: { certificate_chain: { inline_string: cert.cert }, private_key: { inline_string: cert.key } } }],
  };
}

beforeAll(() => {
  cert = selfSigned('example.com');
});

describe('buildValidationBootstrap', () => {
  it('inlines RDS, turns EDS into STATIC with load_assignment, points SDS at static secrets, skips API listeners', () => {
    const boot = buildValidationBootstrap(validResources()) as { static_resources: { listeners: JsonObject[]; clusters: JsonObject[]; secrets: JsonObject[] } };
    const s = boot.static_resources;
    const names = s.listeners.map((l) => l['name']);
    expect(names).toEqual(['http', 'https', 'xgate-validate-route:grpc-only']);
    const json = JSON.stringify(s.listeners);
    expect(json).not.toContain('"rds"');
    expect(json).not.toContain('sds_config');
    expect(json).toContain('"tls_certificate_sds_secret_configs":[{"name":"default/example-tls"}]');
    const web = s.clusters.find((c) => c['name'] === 'default/web/80')!;
    expect(web['type']).toBe('STATIC');
    expect(web['eds_cluster_config']).toBeUndefined();
    expect(JSON.stringify(web['load_assignment'])).toContain('127.0.0.3');
    const empty = s.clusters.find((c) => c['name'] === 'default/empty/80')!;
    expect(empty['load_assignment']).toEqual({ cluster_name: 'default/empty/80', endpoints: [] });
    expect(s.clusters.some((c) => c['name'] === 'xds_cluster')).toBe(true);
    expect(s.secrets.map((x) => x['name'])).toEqual(['default/example-tls']);
  });
});

describe('validateWithEnvoy', () => {
  it('accepts a valid set: listener + RDS route config + EDS cluster + endpoints + TLS secret', async () => {
    const r = await validateWithEnvoy(validResources());
    expect(r.message).toBe('OK');
    expect(r.ok).toBe(true);
  });

  it('rejects an invalid safe_regex with Envoy’s message', async () => {
    const res = validResources();
    const bad = { ...res, routes: [routeConfig('http', [{ match: { safe_regex: { regex: '/api/((' } }, route: { cluster: 'default/web/80' } }]), ...res.routes.slice(1)] };
    const r = await validateWithEnvoy(bad);
    expect(r.ok).toBe(false);
    expect(r.message).toBe('missing ): /api/(('); // RE2's own words, via Envoy
  });

  it('rejects two listeners on one address with Envoy’s message', async () => {
    const res = validResources();
    const dup = { ...res.listeners[0]!, name: 'http-again' };
    const r = await validateWithEnvoy({ ...res, listeners: [...res.listeners, dup] });
    expect(r.ok).toBe(false);
    expect(r.message).toContain("'http-again' has duplicate address");
  });

  it('rejects an SDS reference to a secret that is not there', async () => {
    const r = await validateWithEnvoy({ ...validResources(), secrets: [] });
    expect(r.ok).toBe(false);
    expect(r.message).toContain('Unknown static secret: default/example-tls');
  });

  it('reports an RDS name without a RouteConfiguration without running Envoy', async () => {
    const res = validResources();
    const r = await validateWithEnvoy({ ...res, routes: res.routes.filter((x) => x['name'] !== 'http') });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^xgate: listener "http" names RouteConfiguration "http"/);
  });

  describe('without an Envoy binary', () => {
    const saved = process.env['XGATE_ENVOY_BIN'];
    beforeAll(() => {
      process.env['XGATE_ENVOY_BIN'] = join(tmpdir(), 'no-such-envoy');
    });
    afterAll(() => {
      if (saved === undefined) delete process.env['XGATE_ENVOY_BIN'];
      else process.env['XGATE_ENVOY_BIN'] = saved;
    });
    it('throws (a test using it fails, never skips)', async () => {
      await expect(validateWithEnvoy(validResources())).rejects.toThrow(/XGATE_ENVOY_BIN/);
    });
  });
});
