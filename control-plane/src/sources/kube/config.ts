// Where the Kubernetes client finds its cluster: a kubeconfig file (--kubeconfig), the
// in-cluster service account (decided once in options.ts), or client-node's default
// loading (KUBECONFIG, ~/.kube/config, then in-cluster).
import { KubeConfig } from '@kubernetes/client-node';

export type KubeconfigSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'in-cluster' } | { readonly kind: 'default' };

export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
  const what = source.kind === 'file' ? `kubeconfig ${source.path}` : source.kind === 'in-cluster' ? 'the in-cluster configuration' : 'the default kubeconfig';
  try {
    switch (source.kind) {
      case 'file':
        kc.loadFromFile(source.path);
        break;
      case 'in-cluster':
        kc.loadFromCluster();
        break;
      case 'default':
        kc.loadFromDefault();
        break;
    }
  } catch (err) {
    throw new Error(`cannot load ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!kc.getCurrentCluster()) throw new Error(`${what} names no current cluster`);
  return kc;
}

/** The API server URL, for logs. */
export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '';
}
