// The chart's gateway configuration run by the real Envoy: the bootstrap and SDS files
// the chart renders (mTLS on, the default), with only file paths and the xDS address
// moved to this machine, connect to xgate's mTLS xDS server with a client certificate
// shaped as the chart documents (spiffe://xgate/deployment/<gateway Deployment>) and a
// node id shaped as a pod of that Deployment; and the chart's preStop script, run by
// bash against that Envoy's admin, starts a graceful drain.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVOY_GROUP, MemoryCache } from '../../control-plane/src/xds/cache/memory-cache.js';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import { authorizeByCertificate, xdsServerCredentials, type XdsMtlsCredentials } from '../../control-plane/src/xds/mtls.js';
import { startXdsServer, type XdsServer } from '../../control-plane/src/xds/server/server.js';
import { testEnvoy, waitForHttp } from '../helpers/envoy.js';
import { freePort } from '../helpers/ports.js';
import { cluster, endpoints, listener, RecordingObserver } from '../protocol/harness.js';
import { one, render, type K8sObject } from './helm.js';
import { createPki, type TestPki } from './pki.js';

const NS = 'xgate-system';
const GATEWAY = 'rel-xgate-gateway';
const XDS_HOST = `rel-xgate-xds.${NS}.svc`;
/** What Kubernetes names a pod of the gateway Deployment. */
const POD = `${GATEWAY}-5b6f7c8d9-qwrtz`;

let pki: TestPki;
let server: XdsServer | undefined;
let creds: XdsMtlsCredentials | undefined;
let objs: K8sObject[];

beforeAll(() => {
  pki = createPki();
  objs = render();
});
afterAll(async () => {
  creds?.stop();
  await server?.close();
  pki.cleanup();
});

/** One keep-alive GET (a plain test request says `Connection: close` itself): status and the Connection header Envoy answers with. */
function keepAliveGet(port: number): Promise<{ status: number; connection: string | undefined }> {
  const agent = new http.Agent({ keepAlive: true });
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          agent.destroy();
          resolve({ status: res.statusCode ?? 0, connection: res.headers['connection'] });
        });
      })
      .on('error', (err) => {
        agent.destroy();
        reject(err);
      });
  });
}

/** The ConfigMap's files and the mounted Secret, moved under `dir`. Returns the bootstrap path. */
function layOut(dir: string, secret: { ca: string; cert: string; key: string }): string {
  const data = (one(objs, 'ConfigMap', GATEWAY) as K8sObject & { data: Record<string, string> }).data;
  const configDir = join(dir, 'etc-envoy');
  const tlsDir = join(dir, 'xds-tls');
  mkdirSync(configDir, { recursive: true });
  mkdirSync(tlsDir, { recursive: true });
  for (const [file, text] of Object.entries(data)) {
    writeFileSync(join(configDir, file), text.replaceAll('/etc/xgate/xds-tls', tlsDir).replaceAll('/etc/envoy/', `${configDir}/`));
  }
  copyFileSync(secret.ca, join(tlsDir, 'ca.crt'));
  copyFileSync(secret.cert, join(tlsDir, 'tls.crt'));
  copyFileSync(secret.key, join(tlsDir, 'tls.key'));
  return join(configDir, 'bootstrap.yaml');
}

describe('the chart gateway on the real Envoy', () => {
  it('connects over mTLS with the chart bootstrap and identity, is served, and drains with the preStop script', { timeout: 60_000 }, async () => {
    const ca = pki.ca('cluster-ca');
    const serverCert = ca.issue('xds', { san: [`DNS:${XDS_HOST}`, `DNS:${XDS_HOST}.cluster.local`], usage: ['serverAuth'] });
    const clientCert = ca.issue('gateway', { san: [`URI:spiffe://xgate/deployment/${GATEWAY}`], usage: ['clientAuth'] });

    // The control plane side, as the chart's flags configure it.
    const controller = (one(objs, 'Deployment', 'rel-xgate-controller') as K8sObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } }).spec.template.spec.containers[0]!;
    const flag = (name: string) => controller.args.find((a) => a.startsWith(`--${name}=`))!.split('=')[1]!;
    expect(flag('xds-tls-trust-domain')).toBe('xgate');
    const cache = new MemoryCache();
    const recorder = new RecordingObserver();
    const refusals: string[] = [];
    const authorize = authorizeByCertificate({ trustDomain: flag('xds-tls-trust-domain') });
    creds = xdsServerCredentials({ caFile: ca.cert, certFile: serverCert.cert, keyFile: serverCert.key, reloadIntervalMs: 0 });
    server = await startXdsServer({
      host: '127.0.0.1',
      port: 0,
      cache,
      observers: [recorder],
      credentials: creds,
      authorize: (node, call) => {
        const r = authorize(node, call);
        if (r) refusals.push(r);
        return r;
      },
      shutdownGraceMs: 300,
    });
    const port = await freePort();
    const directOk = { name: 'r1', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }] }] };
    cache.set(ENVOY_GROUP, new SnapshotEncoder().build({ listeners: [listener('http', 'r1', port)], routes: [directOk], clusters: [cluster('c1')], endpoints: [endpoints('c1')], secrets: [] }));

    const dir = join(pki.dir, 'pod');
    const bootstrapPath = layOut(dir, { ca: ca.cert, cert: clientCert.cert, key: clientCert.key });

    // Immediate drain and a 2 s drain time, so that the drain is observable quickly (the chart uses gradual, 30 s).
    const envoy = await testEnvoy({ xdsPort: server.port, nodeId: POD, bootstrapPath, extraArgs: ['--drain-time-s', '2', '--drain-strategy', 'immediate'] });
    await envoy.waitReady();
    expect(recorder.of('connected').map((e) => e.node.id)).toEqual([POD]);
    expect(refusals).toEqual([]);
    await waitForHttp(`http://127.0.0.1:${port}/`, { status: 200 });
    expect(await keepAliveGet(port)).toEqual({ status: 200, connection: undefined }); // HTTP/1.1 keep-alive is implicit

    // The chart's preStop script, pointed at this Envoy's admin port and without the wait.
    const gw = one(objs, 'Deployment', GATEWAY) as K8sObject & { spec: { template: { spec: { containers: { lifecycle: { preStop: { exec: { command: string[] } } } }[] } } } };
    const [bash, dashC, script] = gw.spec.template.spec.containers[0]!.lifecycle.preStop.exec.command;
    const local = script!.replace('/dev/tcp/127.0.0.1/19000', `/dev/tcp/127.0.0.1/${envoy.adminPort}`).replace(/sleep 30$/, 'sleep 0');
    execFileSync(bash!, [dashC!, local], { timeout: 10_000 });
    expect(await keepAliveGet(port)).toEqual({ status: 200, connection: 'close' });
    // After the drain time the listener is closed.
    const end = Date.now() + 10_000;
    let refused = false;
    while (!refused && Date.now() < end) {
      try {
        await waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 200 });
        await new Promise((r) => setTimeout(r, 200));
      } catch (err) {
        refused = /ECONNREFUSED/.test((err as Error).message);
      }
    }
    expect(refused).toBe(true);
    await envoy.stop();
  });

  it('refuses the same certificate for a node id outside the gateway Deployment', { timeout: 60_000 }, async () => {
    const ca = pki.ca('cluster-ca-2');
    const serverCert = ca.issue('xds-2', { san: [`DNS:${XDS_HOST}`], usage: ['serverAuth'] });
    const clientCert = ca.issue('gateway-2', { san: [`URI:spiffe://xgate/deployment/${GATEWAY}`], usage: ['clientAuth'] });
    const cache = new MemoryCache();
    const refusals: string[] = [];
    const authorize = authorizeByCertificate();
    const c2 = xdsServerCredentials({ caFile: ca.cert, certFile: serverCert.cert, keyFile: serverCert.key, reloadIntervalMs: 0 });
    const s2 = await startXdsServer({
      host: '127.0.0.1',
      port: 0,
      cache,
      credentials: c2,
      authorize: (node, call) => {
        const r = authorize(node, call);
        if (r) refusals.push(r);
        return r;
      },
      shutdownGraceMs: 300,
    });
    try {
      cache.set(ENVOY_GROUP, new SnapshotEncoder().build({ listeners: [], routes: [], clusters: [], endpoints: [], secrets: [] }));
      const bootstrapPath = layOut(join(pki.dir, 'pod-2'), { ca: ca.cert, cert: clientCert.cert, key: clientCert.key });
      const envoy = await testEnvoy({ xdsPort: s2.port, nodeId: 'someone-else-5b6f7c8d9-qwrtz', bootstrapPath });
      const end = Date.now() + 15_000;
      while (refusals.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(refusals[0]).toBe(`node id "someone-else-5b6f7c8d9-qwrtz" does not match the client certificate (spiffe://xgate/deployment/${GATEWAY})`);
      expect((await envoy.admin('/ready')).status).toBe(503);
      await envoy.stop();
    } finally {
      c2.stop();
      await s2.close();
    }
  });
});
