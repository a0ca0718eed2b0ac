// A stand-in Kubernetes API server for tests (no cluster exists in CI): an in-process
// node:http server that the real @kubernetes/client-node talks to through a kubeconfig.
// See docs/kubernetes.md for what it covers and what it does not.
//
//   const api = await testApiServer();            // closed after the test file
//   api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: … });
//   const kubeconfig = api.kubeconfigFile;        // http://127.0.0.1:PORT, no auth
//   api.dropWatches(); api.compact(); api.setLatency(500, { verbs: ['list'] }); api.outage(true);
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { FakeApiServer, type FakeApiServerOptions } from './fake-apiserver/server.js';

export { FakeApiServer, type FakeApiServerOptions, type RecordedRequest, type Verb } from './fake-apiserver/server.js';
export { rfc3339, type Obj } from './fake-apiserver/storage.js';

const open = new Set<{ api: FakeApiServer; dir: string }>();

afterAll(async () => {
  for (const o of [...open]) {
    open.delete(o);
    await o.api.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
});

export type TestApiServer = FakeApiServer & { readonly kubeconfigFile: string };

/** Starts a stand-in API server with a kubeconfig file for it; both go away after the test file. */
export async function testApiServer(opts: FakeApiServerOptions = {}): Promise<TestApiServer> {
  const api = await FakeApiServer.start(opts);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xgate-fake-apiserver-'));
  const kubeconfigFile = path.join(dir, 'kubeconfig.yaml');
  writeFileSync(kubeconfigFile, api.kubeconfig());
  open.add({ api, dir });
  return Object.assign(api, { kubeconfigFile });
}
