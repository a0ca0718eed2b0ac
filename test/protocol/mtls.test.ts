// xDS over mTLS (control-plane/src/xds/mtls.ts) with certificates made by openssl at
// test time: a client without a certificate, with one from another CA, or whose node
// id does not match its certificate is refused; a matching one gets the snapshot; the
// server's files are re-read on rotation; the real Envoy connects with its client
// certificate and becomes ready.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENVOY_GROUP, MemoryCache } from '../../control-plane/src/xds/cache/memory-cache.js';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import type { NodeInfo } from '../../control-plane/src/xds/cache/types.js';
import {
  authorizeByCertificate,
  checkTlsMaterial,
  gatewayIdentities,
  identityAllows,
  parseSubjectAltNames,
  xdsServerCredentials,
  XdsTlsError,
  type XdsMtlsCredentials,
} from '../../control-plane/src/xds/mtls.js';
import type { AdsCall, Authorize } from '../../control-plane/src/xds/server/session.js';
import { startXdsServer, type XdsServer } from '../../control-plane/src/xds/server/server.js';
import { LISTENER } from '../../control-plane/src/xds/type-urls.js';
import { AdsClient, resourceNames, type SotwStream } from '../helpers/ads-client.js';
import { testEnvoy } from '../helpers/envoy.js';
import { freePort } from '../helpers/ports.js';
import { createPki, type CertFiles, type TestCa, type TestPki } from '../helm/pki.js';
import { cluster, endpoints, listener, RecordingObserver, route, until } from './harness.js';

const XDS_NAME = 'xgate-xds.test';
let pki: TestPki;
let ca: TestCa;
let otherCa: TestCa;
let serverCert: CertFiles;
const clients: AdsClient[] = [];
const servers: { server: XdsServer; creds: XdsMtlsCredentials }[] = [];

beforeAll(() => {
  pki = createPki();
  ca = pki.ca('xgate-ca');
  otherCa = pki.ca('other-ca');
  serverCert = ca.issue('xds-server', { san: [`DNS:${XDS_NAME}`, 'IP:127.0.0.1'], usage: ['serverAuth'] });
});
afterAll(() => pki.cleanup());
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) {
    s.creds.stop();
    await s.server.close();
  }
});

const read = (f: string): Buffer => readFileSync(f);

interface Started {
  readonly port: number;
  readonly recorder: RecordingObserver;
  readonly refusals: string[];
  readonly creds: XdsMtlsCredentials;
}

/** An mTLS xDS server on 127.0.0.1:0 serving one small snapshot to group "envoy". */
async function startMtlsServer(files = { caFile: ca.cert, certFile: serverCert.cert, keyFile: serverCert.key }, listenerPort = 10080): Promise<Started> {
  const cache = new MemoryCache();
  const recorder = new RecordingObserver();
  const refusals: string[] = [];
  const inner = authorizeByCertificate();
  const authorize: Authorize = (node, call) => {
    const r = inner(node, call);
    if (r !== undefined) refusals.push(r);
    return r;
  };
  const creds = xdsServerCredentials({ ...files, reloadIntervalMs: 0 });
  const server = await startXdsServer({ host: '127.0.0.1', port: 0, cache, observers: [recorder], credentials: creds, authorize, shutdownGraceMs: 300 });
  servers.push({ server, creds });
  cache.set(
    ENVOY_GROUP,
    new SnapshotEncoder().build({
      listeners: [listener('l1', 'r1', listenerPort)],
      routes: [route('r1', ['c1'])],
      clusters: [cluster('c1')],
      endpoints: [endpoints('c1')],
      secrets: [],
    }),
  );
  return { port: server.port, recorder, refusals, creds };
}

function client(port: number, creds: grpc.ChannelCredentials): AdsClient {
  const c = new AdsClient(`127.0.0.1:${port}`, creds);
  clients.push(c);
  return c;
}

const tlsCreds = (trust: string, id?: CertFiles): grpc.ChannelCredentials =>
  grpc.credentials.createSsl(read(trust), id ? read(id.key) : null, id ? read(id.cert) : null);

/**
 * A bare TLS connection as the gRPC client makes it, sending the HTTP/2 preface: 'ok'
 * once the server answers, the TLS error (e.g. the server's alert), or 'closed' when
 * the server hangs up without a word.
 */
function tlsOutcome(port: number, id?: CertFiles): Promise<string> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port, servername: XDS_NAME, ca: read(ca.cert), ALPNProtocols: ['h2'], ...(id ? { cert: read(id.cert), key: read(id.key) } : {}) });
    sock.setTimeout(5_000, () => sock.destroy(new Error('timeout')));
    // TLS 1.3: the server checks the client certificate after the client's handshake is done; its verdict arrives as the first read.
    sock.once('data', () => {
      sock.destroy();
      resolve('ok');
    });
    sock.once('error', (err) => resolve(err.message));
    sock.once('close', () => resolve('closed'));
    sock.once('secureConnect', () => sock.write(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00', 'latin1')));
  });
}

function askListeners(stream: SotwStream, nodeId: string): void {
  stream.send({ node: { id: nodeId, cluster: 'xgate-gateway', user_agent_name: 'envoy' }, type_url: LISTENER });
}

describe('xDS mTLS: who is refused', () => {
  it('refuses a client without a certificate (TLS handshake fails, nothing served)', async () => {
    const s = await startMtlsServer();
    const stream = client(s.port, tlsCreds(ca.cert)).sotw();
    askListeners(stream, 'gw-1');
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    await expect(stream.next(100)).rejects.toThrow();
    expect(s.recorder.of('connected')).toHaveLength(0);
    expect(await tlsOutcome(s.port)).toMatch(/alert certificate required/);
  });

  it('refuses a client certificate signed by another CA', async () => {
    const s = await startMtlsServer();
    const stranger = otherCa.issue('stranger', { san: ['URI:spiffe://xgate/gateway/gw-1'], usage: ['clientAuth'] });
    const stream = client(s.port, tlsCreds(ca.cert, stranger)).sotw();
    askListeners(stream, 'gw-1');
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(s.recorder.of('connected')).toHaveLength(0);
    // Node's TLS server verifies the chain after the handshake and closes the socket without an alert.
    expect(await tlsOutcome(s.port, stranger)).toBe('closed');
    // The same identity from the right CA gets through the handshake.
    expect(await tlsOutcome(s.port, ca.issue('gw-1', { san: ['URI:spiffe://xgate/gateway/gw-1'], usage: ['clientAuth'] }))).toBe('ok');
  });

  it('refuses a plaintext client', async () => {
    const s = await startMtlsServer();
    const stream = client(s.port, grpc.credentials.createInsecure()).sotw();
    askListeners(stream, 'gw-1');
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(s.recorder.of('connected')).toHaveLength(0);
  });

  it('refuses a node id that does not match the certificate (PERMISSION_DENIED)', async () => {
    const s = await startMtlsServer();
    const gw1 = ca.issue('gw-1', { san: ['URI:spiffe://xgate/gateway/gw-1'], usage: ['clientAuth'] });
    const stream = client(s.port, tlsCreds(ca.cert, gw1)).sotw();
    askListeners(stream, 'gw-2');
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toBe('node id "gw-2" does not match the client certificate (spiffe://xgate/gateway/gw-1)');
    expect(s.recorder.of('connected')).toHaveLength(0);
    expect(s.refusals).toHaveLength(1);
  });

  it('refuses a valid certificate without an xgate identity (other trust domain, DNS SAN, CN)', async () => {
    const s = await startMtlsServer();
    const foreign = ca.issue('gw-1-foreign', { san: ['URI:spiffe://cluster.local/gateway/gw-1', 'DNS:gw-1'], usage: ['clientAuth'] });
    const stream = client(s.port, tlsCreds(ca.cert, foreign)).sotw();
    askListeners(stream, 'gw-1');
    const status = await stream.status;
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toMatch(/no spiffe:\/\/xgate\/gateway\/… or spiffe:\/\/xgate\/deployment\/… URI SAN/);
  });
});

describe('xDS mTLS: who is served', () => {
  it('serves a node whose id matches its certificate', async () => {
    const s = await startMtlsServer();
    const gw1 = ca.issue('gw-1', { san: ['URI:spiffe://xgate/gateway/gw-1'], usage: ['clientAuth'] });
    const stream = client(s.port, tlsCreds(ca.cert, gw1)).sotw();
    askListeners(stream, 'gw-1');
    const res = await stream.next(5_000);
    expect(res.type_url).toBe(LISTENER);
    expect(resourceNames(res)).toEqual(['l1']);
    expect(s.recorder.of('connected').map((e) => e.node.id)).toEqual(['gw-1']);
    expect(s.refusals).toEqual([]);
  });

  it('serves the pods of a Deployment with one shared certificate, and nothing else', async () => {
    const s = await startMtlsServer();
    const shared = ca.issue('deploy', { san: ['URI:spiffe://xgate/deployment/xgate-gateway'], usage: ['clientAuth'] });
    const c = client(s.port, tlsCreds(ca.cert, shared));
    for (const pod of ['xgate-gateway-7d9f8b6c5d-x2k4z', 'xgate-gateway-5b6f7c8d9-qwrtz']) {
      const stream = c.sotw();
      askListeners(stream, pod);
      expect(resourceNames(await stream.next(5_000))).toEqual(['l1']);
    }
    for (const pod of ['xgate-gateway', 'xgate-gateway-other-7d9f8b6c5d-x2k4z', 'other-7d9f8b6c5d-x2k4z', 'xgate-gateway-7d9f8b6c5d-aeiou']) {
      const stream = c.sotw();
      askListeners(stream, pod);
      expect((await stream.status).code).toBe(grpc.status.PERMISSION_DENIED);
    }
  });
});

describe('xDS mTLS: server certificate files', () => {
  it('re-reads rotated files for new connections and keeps the last good set on a half-written rotation', async () => {
    // The server reads its files from a folder of its own, as from a mounted Secret.
    const dir = join(pki.dir, 'mounted');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const files = { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    copyFileSync(ca.cert, files.caFile);
    copyFileSync(serverCert.cert, files.certFile);
    copyFileSync(serverCert.key, files.keyFile);
    const s = await startMtlsServer(files);
    const gw1 = ca.issue('gw-1', { san: ['URI:spiffe://xgate/gateway/gw-1'], usage: ['clientAuth'] });

    // Rotation: a new server certificate from a new CA (clients must trust the new one).
    const ca2 = pki.ca('xgate-ca-2');
    const server2 = ca2.issue('xds-server-2', { san: [`DNS:${XDS_NAME}`, 'IP:127.0.0.1'], usage: ['serverAuth'] });
    copyFileSync(server2.cert, files.certFile); // key not yet replaced: inconsistent
    expect(s.creds.reload()).toBe(false);
    expect(s.creds.info().subject).toBe('CN=xds-server');
    let stream = client(s.port, tlsCreds(ca.cert, gw1)).sotw();
    askListeners(stream, 'gw-1');
    expect(resourceNames(await stream.next(5_000))).toEqual(['l1']);

    copyFileSync(server2.key, files.keyFile);
    expect(s.creds.reload()).toBe(true);
    expect(s.creds.info().subject).toBe('CN=xds-server-2');
    expect(s.creds.reload()).toBe(false); // unchanged
    stream = client(s.port, tlsCreds(ca2.cert, gw1)).sotw();
    askListeners(stream, 'gw-1');
    expect(resourceNames(await stream.next(5_000))).toEqual(['l1']);
    stream = client(s.port, tlsCreds(ca.cert, gw1)).sotw(); // trusts only the old server CA
    askListeners(stream, 'gw-1');
    expect((await stream.status).code).toBe(grpc.status.UNAVAILABLE);
  });

  it('refuses to start on missing, mismatched, non-CA or expired files', () => {
    const good = { caFile: ca.cert, certFile: serverCert.cert, keyFile: serverCert.key };
    expect(() => xdsServerCredentials({ ...good, caFile: join(pki.dir, 'nope.crt') })).toThrow(/xDS client CA .*nope\.crt: ENOENT/);
    expect(() => xdsServerCredentials({ ...good, keyFile: ca.key })).toThrow(/does not belong to the certificate/);
    expect(() => xdsServerCredentials({ ...good, caFile: serverCert.cert })).toThrow(/is not a CA certificate/);
    expect(() => xdsServerCredentials({ ...good, keyFile: serverCert.cert })).toThrow(XdsTlsError);
    const raw = { ca: read(ca.cert), cert: read(serverCert.cert), key: read(serverCert.key) };
    expect(() => checkTlsMaterial(raw, good, new Date(Date.now() + 10 * 86_400_000))).toThrow(/expired at/);
    expect(checkTlsMaterial(raw, good).info.subjectAltName).toBe(`DNS:${XDS_NAME}, IP Address:127.0.0.1`);
  });
});

describe('xDS mTLS: identity rules', () => {
  it('parses Node subjectaltname strings, JSON-quoted values included', () => {
    expect(parseSubjectAltNames('DNS:a.example, URI:spiffe://xgate/gateway/gw-1, IP Address:127.0.0.1')).toEqual([
      { type: 'DNS', value: 'a.example' },
      { type: 'URI', value: 'spiffe://xgate/gateway/gw-1' },
      { type: 'IP Address', value: '127.0.0.1' },
    ]);
    // A value with ", URI:" inside must not smuggle in a second entry.
    expect(parseSubjectAltNames('DNS:"evil, URI:spiffe://xgate/gateway/gw-1"')).toEqual([{ type: 'DNS', value: 'evil, URI:spiffe://xgate/gateway/gw-1' }]);
    expect(parseSubjectAltNames(undefined)).toEqual([]);
  });

  it('grants only well-formed identities of the trust domain', () => {
    const san = [
      'URI:spiffe://xgate/gateway/gw-1',
      'URI:spiffe://xgate/deployment/xgate-gateway',
      'URI:spiffe://xgate/gateway/UPPER',
      'URI:spiffe://xgate/gateway/a/b',
      'URI:spiffe://xgate.evil/gateway/gw-2',
      'URI:spiffe://other/gateway/gw-3',
      'DNS:gw-4',
    ].join(', ');
    expect(gatewayIdentities(san)).toEqual([
      { kind: 'node', name: 'gw-1' },
      { kind: 'deployment', name: 'xgate-gateway' },
    ]);
    expect(gatewayIdentities(san, 'other')).toEqual([{ kind: 'node', name: 'gw-3' }]);
    expect(identityAllows({ kind: 'deployment', name: 'a.b' }, 'a.b-5b6f7c8d9-qwrtz')).toBe(true);
    expect(identityAllows({ kind: 'deployment', name: 'a.b' }, 'axb-5b6f7c8d9-qwrtz')).toBe(false);
  });

  it('refuses a stream without TLS when used with plaintext credentials (fails closed)', () => {
    const authorize = authorizeByCertificate();
    const node: NodeInfo = { id: 'gw-1', cluster: 'x', userAgentName: 'envoy', metadata: {} };
    const call = { getAuthContext: () => ({}), getPeer: () => 'ipv4:127.0.0.1:1', metadata: new grpc.Metadata() } as unknown as AdsCall;
    expect(authorize(node, call)).toBe('xDS requires a verified TLS client certificate');
    expect(() => authorizeByCertificate({ trustDomain: 'Bad Domain' })).toThrow(XdsTlsError);
  });
});

describe('xDS mTLS with the real Envoy', () => {
  /** The bootstrap's xds_cluster with an UpstreamTlsContext: client certificate, server CA and name, TLS 1.3, ALPN h2. */
  const withTls = (id: CertFiles) => (bootstrap: Record<string, unknown>): void => {
    const clusters = (bootstrap['static_resources'] as { clusters: Record<string, unknown>[] }).clusters;
    const xds = clusters.find((c) => c['name'] === 'xds_cluster')!;
    xds['transport_socket'] = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: XDS_NAME,
        common_tls_context: {
          tls_params: { tls_minimum_protocol_version: 'TLSv1_3', tls_maximum_protocol_version: 'TLSv1_3' },
          alpn_protocols: ['h2'],
          tls_certificates: [{ certificate_chain: { filename: id.cert }, private_key: { filename: id.key } }],
          validation_context: {
            trusted_ca: { filename: ca.cert },
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: XDS_NAME } }],
          },
        },
      },
    };
  };

  it('connects with its client certificate over TLS 1.3 and becomes ready; a mismatched node id is refused', { timeout: 40_000 }, async () => {
    const port = await freePort();
    const s = await startMtlsServer(undefined, port);
    const id = ca.issue('envoy-gw-1', { san: ['URI:spiffe://xgate/gateway/envoy-gw-1'], usage: ['clientAuth'] });
    const good = await testEnvoy({ xdsPort: s.port, nodeId: 'envoy-gw-1', configure: withTls(id) });
    await good.waitReady();
    expect(s.recorder.of('connected').map((e) => e.node.id)).toEqual(['envoy-gw-1']);
    await good.waitForListener('l1');

    const bad = await testEnvoy({ xdsPort: s.port, nodeId: 'envoy-gw-2', configure: withTls(id) });
    await until(() => s.refusals.length > 0, 10_000);
    expect(s.refusals[0]).toBe('node id "envoy-gw-2" does not match the client certificate (spiffe://xgate/gateway/envoy-gw-1)');
    expect((await bad.admin('/ready')).status).toBe(503);
    expect(s.recorder.of('connected').map((e) => e.node.id)).toEqual(['envoy-gw-1']);
  });
});
