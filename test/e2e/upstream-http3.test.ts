// HTTP/3 (QUIC) on the HTTPS port with the `http3` option: the translation is accepted
// by `envoy --mode validate`; the gateway Envoy listens on UDP; TCP HTTPS responses
// advertise alt-svc (not for a host with client mTLS or capped at TLS 1.2, which are not
// served over QUIC); and a real HTTP/3 request goes through. Node has no QUIC client and
// this machine's curl has no HTTP/3, so the client is a second Envoy whose upstream
// cluster speaks HTTP/3 (QuicUpstreamTransport) to the gateway.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore, type PipelineOptions } from '../../control-plane/src/pipeline/translate-store.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/src/serve.js';
import { readManifests } from '../../control-plane/src/sources/file-source.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, tlsSecretYaml } from '../helpers/control-plane.js';
import { testEnvoy, validateWithEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { freePorts } from '../helpers/ports.js';
import { eventually } from '../helpers/wait.js';

const CERTS = path.join(import.meta.dirname, '..', 'fixtures', 'certs');
const read = (f: string) => readFileSync(path.join(CERTS, f), 'utf8');
const T = 'type.googleapis.com/';

function ingress(name: string, annotations: Record<string, string>): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('');
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations:${ann ? `\n${ann}` : ' {}\n'}spec:
  ingressClassName: xgate
  tls: [{ hosts: [${name}.example.com], secretName: site }]
  rules:
    - host: ${name}.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
`;
}

function manifests(web: Backend): Record<string, string> {
  const ca = Buffer.from(read('upstream/ca.crt')).toString('base64');
  return {
    '00-class.yaml': INGRESS_CLASS_YAML,
    '10-services.yaml': serviceYaml('web', [web]),
    '20-secrets.yaml': `${tlsSecretYaml('site', read('a.crt'), read('a.key'))}---
apiVersion: v1
kind: Secret
metadata: { name: client-ca, namespace: default }
type: Opaque
data: { ca.crt: ${ca} }
`,
    '30-ingress.yaml': [
      ingress('h3', {}),
      ingress('mtls', { 'nginx.ingress.kubernetes.io/auth-tls-secret': 'client-ca' }),
      ingress('old', { 'higress.io/tls-max-protocol-version': 'TLSv1.2' }),
    ].join('---\n'),
  };
}

/** A second Envoy, static config only: plain HTTP in on `client`, HTTP/3 out to the gateway's UDP port. */
function quicClient(gatewayPort: number, caFile: string) {
  return (b: Record<string, unknown>) => {
    delete b['dynamic_resources'];
    const sr = b['static_resources'] as { listeners?: unknown[]; clusters: unknown[] };
    sr.listeners = [
      {
        name: 'client',
        address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [
          {
            filters: [
              {
                name: 'envoy.filters.network.http_connection_manager',
                typed_config: {
                  '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
                  stat_prefix: 'client',
                  route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'h3' } }] }] },
                  http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` } }],
                },
              },
            ],
          },
        ],
      },
    ];
    sr.clusters.push({
      name: 'h3',
      type: 'STATIC',
      connect_timeout: '5s',
      load_assignment: { cluster_name: 'h3', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: gatewayPort } } } }] }] },
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
          explicit_http_config: { http3_protocol_options: {} },
        },
      },
      transport_socket: {
        name: 'envoy.transport_sockets.quic',
        typed_config: {
          '@type': `${T}envoy.extensions.transport_sockets.quic.v3.QuicUpstreamTransport`,
          upstream_tls_context: { sni: 'h3.example.com', common_tls_context: { validation_context: { trusted_ca: { filename: caFile } } } },
        },
      },
    });
  };
}

/** Is a UDP socket bound to this port (Linux /proc/net/udp{,6})? */
function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      // Columns: sl local_address rem_address …; local_address is ADDR:PORT in hex.
      if (readFileSync(f, 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex))) return true;
    } catch {
      // no IPv6
    }
  }
  return false;
}

describe('HTTP/3 (QUIC) with the http3 option', () => {
  let web: Backend;
  let cp: RunningControlPlane;
  let dir: string;
  let gateway: RunningEnvoy;
  let opts: PipelineOptions;

  beforeAll(async () => {
    [web] = (await testBackends(['web'], { distinctHosts: true })) as [Backend];
    dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-h3-'));
    for (const [f, y] of Object.entries(manifests(web))) writeFileSync(path.join(dir, f), y);
    writeFileSync(path.join(dir, 'ca.pem'), read('a.crt'));
    const [httpPort, httpsPort] = await freePorts(2);
    opts = { ...DEFAULT_PIPELINE_OPTIONS, bindAddress: '127.0.0.1', httpPort: httpPort!, httpsPort: httpsPort!, http3: {} };
    cp = await startControlPlane(
      { manifests: dir, xds: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, pipeline: opts, logLevel: 'warn', debounceMs: 10, maxDelayMs: 200 },
      silentLogger(),
    );
    gateway = await testEnvoy({ xdsPort: cp.xdsPort });
    await gateway.waitReady(20_000);
    await gateway.waitForListener('https-quic', 20_000);
  }, 60_000);

  afterAll(async () => {
    await cp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the translation is accepted by envoy --mode validate', async () => {
    const input = await readManifests(dir);
    const r = translateStore(snapshotOf(input.objects), opts);
    const envoy = r.resources['envoy']!;
    const quic = envoy.listeners.find((l) => l['name'] === 'https-quic')!;
    expect((quic['filter_chains'] as Array<{ name: string }>).map((c) => c.name)).toEqual(['quic/h3.example.com']);
    const v = await validateWithEnvoy(envoy);
    expect(v.message).toBe('OK');
  }, 60_000);

  it('the gateway listens on UDP on the HTTPS port', () => {
    expect(udpBound(opts.httpsPort)).toBe(true);
  });

  it('TCP HTTPS responses advertise h3, except for hosts not served over QUIC', async () => {
    const get = (host: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: opts.httpsPort, servername: host, headers: { host }, ca: read('a.crt'), agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res));
        });
        req.on('error', reject);
        req.end();
      });
    await eventually(async () => (await get('h3.example.com')).statusCode === 200, 20_000, 100);
    expect((await get('h3.example.com')).headers['alt-svc']).toBe(`h3=":${opts.httpsPort}"; ma=86400`);
    expect((await get('old.example.com')).headers['alt-svc']).toBeUndefined();
  });

  it('a real HTTP/3 request goes through the gateway (client: an Envoy speaking HTTP/3 upstream)', async () => {
    const client = await testEnvoy({ xdsPort: cp.xdsPort, configure: quicClient(opts.httpsPort, path.join(dir, 'ca.pem')) });
    await client.waitReady(20_000);
    const { port } = await client.waitForListener('client', 20_000);
    let r = await request(`http://127.0.0.1:${port}/over-h3`, { host: 'h3.example.com' });
    await eventually(async () => {
      r = await request(`http://127.0.0.1:${port}/over-h3`, { host: 'h3.example.com' });
      return r.status === 200;
    }, 20_000, 200);
    expect(r.echo).toMatchObject({ backend: 'web', path: '/over-h3' });
    const stats = await gateway.stats('downstream_rq_http3_total');
    expect(stats['http.https-quic.downstream_rq_http3_total']).toBeGreaterThan(0);
    const up = await client.stats('upstream_cx_http3_total');
    expect(up['cluster.h3.upstream_cx_http3_total']).toBeGreaterThan(0);
    await client.stop();
  }, 60_000);
});
