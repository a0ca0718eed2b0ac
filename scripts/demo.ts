// `npm run demo`: the control plane on examples/, a small HTTP backend on every
// address:port the examples' EndpointSlices list, and the pinned Envoy with
// envoy/bootstrap.yaml. Edit examples/ and traffic follows. Ctrl-C stops everything.
import path from 'node:path';
import { createLogger } from '../control-plane/src/log.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../control-plane/src/pipeline/translate-store.js';
import { startControlPlane } from '../control-plane/src/serve.js';
import { readManifests } from '../control-plane/src/sources/file-source.js';
import type { EndpointSlice } from '../control-plane/src/sources/k8s-types.js';
import { repoRoot } from '../envoy/binary.js';
import { startEnvoy } from '../envoy/runner.js';
import { startBackend, type Backend } from './example-backend.js';

const root = repoRoot();
const examples = path.join(root, 'examples');
const logger = createLogger({ level: 'info', pretty: true });
const backends = new Map<string, Backend | Promise<Backend | undefined>>();

async function syncBackends(): Promise<void> {
  const { objects } = await readManifests(examples);
  for (const o of objects) {
    if (o.kind !== 'EndpointSlice') continue;
    const slice = o as EndpointSlice;
    const service = slice.metadata.labels?.['kubernetes.io/service-name'] ?? slice.metadata.name;
    for (const port of slice.ports ?? []) {
      for (const ep of slice.endpoints ?? []) {
        for (const host of ep.addresses ?? []) {
          const key = `${host}:${port.port}`;
          if (backends.has(key) || !host.startsWith('127.') || !port.port) continue;
          backends.set(
            key,
            startBackend({ name: `${service}@${host}`, host, port: port.port }).then(
              (b) => {
                backends.set(key, b);
                logger.info({ backend: b.name, url: b.url }, 'example backend started');
                return b;
              },
              (err: Error) => {
                logger.warn({ err: err.message, key }, 'could not start an example backend');
                return undefined;
              },
            ),
          );
        }
      }
    }
  }
  await Promise.all(backends.values());
}

async function main(): Promise<void> {
  await syncBackends();
  const backendTimer = setInterval(() => void syncBackends().catch(() => undefined), 1000);
  const cp = await startControlPlane(
    {
      manifests: examples,
      xds: { host: '127.0.0.1', port: 18000 },
      admin: { host: '127.0.0.1', port: 18080 },
      pipeline: { ...DEFAULT_PIPELINE_OPTIONS, bindAddress: '127.0.0.1', httpPort: 8080, httpsPort: 8443 },
      logLevel: 'info',
      debounceMs: 20,
      maxDelayMs: 500,
    },
    logger,
  );
  const envoy = await startEnvoy({ xdsPort: cp.xdsPort, nodeId: 'demo-gateway', logLevel: 'warning' });
  await envoy.waitReady(30_000);
  process.stdout.write(`
xgate demo is running.
  HTTP   http://127.0.0.1:8080    curl -H 'Host: shop.apps.example.local' http://127.0.0.1:8080/
         (hosts with a certificate answer 308 → HTTPS: curl -i -H 'Host: web.example.local' http://127.0.0.1:8080/)
  HTTPS  https://127.0.0.1:8443   curl -k --resolve web.example.local:8443:127.0.0.1 https://web.example.local:8443/
  xDS    127.0.0.1:18000          (Envoy node "demo-gateway", delta ADS)
  admin  http://127.0.0.1:18080   /readyz /metrics /debug/snapshot /debug/proxies /debug/diagnostics
  Envoy admin ${envoy.adminUrl}   log: ${envoy.logFile}
Edit ${path.relative(process.cwd(), examples) || examples}/ and the routing changes live. Ctrl-C stops everything.
`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('\nstopping…\n');
  clearInterval(backendTimer);
  await envoy.stop();
  await cp.close();
  await Promise.all([...backends.values()].map(async (b) => (await b)?.close()));
}

main().catch((err: unknown) => {
  logger.error({ err }, 'demo failed');
  process.exit(1);
});
