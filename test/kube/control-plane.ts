// An in-process control plane in --kube mode against a stand-in API server, on
// ephemeral ports, closed after the test file.
import { afterAll } from 'vitest';
import type { KubeOptions } from '../../control-plane/src/options.js';
import { DEFAULT_PIPELINE_OPTIONS } from '../../control-plane/src/pipeline/translate-store.js';
import { startControlPlane, type RunningControlPlane } from '../../control-plane/src/serve.js';
import type { TestApiServer } from '../helpers/fake-apiserver.js';
import { freePorts } from '../helpers/ports.js';
import { logger } from './helpers.js';

const open = new Set<RunningControlPlane>();
afterAll(async () => {
  for (const cp of [...open]) {
    open.delete(cp);
    await cp.close();
  }
});

export interface KubeControlPlane {
  readonly cp: RunningControlPlane;
  readonly xdsPort: number;
  readonly httpPort: number;
  readonly httpsPort: number;
}

export interface KubeControlPlaneOptions {
  readonly identity?: string;
  readonly publish?: KubeOptions['publish'];
  readonly namespaces?: readonly string[];
  /** Resolves with the ports as soon as they are chosen, before the control plane has synced. */
  readonly onPorts?: (ports: { xdsPort: number; httpPort: number; httpsPort: number; adminPort: number }) => void;
}

export async function kubeControlPlane(api: TestApiServer, opts: KubeControlPlaneOptions = {}): Promise<KubeControlPlane> {
  const [xdsPort, httpPort, httpsPort, adminPort] = (await freePorts(4)) as [number, number, number, number];
  opts.onPorts?.({ xdsPort, httpPort, httpsPort, adminPort });
  const cp = await startControlPlane(
    {
      manifests: '',
      xds: { host: '127.0.0.1', port: xdsPort },
      admin: { host: '127.0.0.1', port: adminPort },
      pipeline: { ...DEFAULT_PIPELINE_OPTIONS, bindAddress: '127.0.0.1', httpPort, httpsPort },
      logLevel: 'warn',
      debounceMs: 10,
      maxDelayMs: 200,
      kube: {
        kubeconfig: { kind: 'file', path: api.kubeconfigFile },
        namespaces: opts.namespaces ?? [],
        publish: opts.publish,
        identity: opts.identity ?? 'xgate-0',
        election: { namespace: 'xgate-system', id: 'xgate-leader', leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 },
      },
    },
    logger,
  );
  open.add(cp);
  return { cp, xdsPort, httpPort, httpsPort };
}
