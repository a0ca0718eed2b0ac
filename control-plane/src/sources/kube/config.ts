// Where the Kubernetes client finds its cluster: a kubeconfig file (--kubeconfig), the
// in-cluster service account (decided once in options.ts), or client-node's default
// loading (KUBECONFIG, ~/.kube/config, then in-cluster).
import { KubeConfig } from '@kubernetes/client-node';

export type KubeconfigSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'in-cluster' } | { readonly kind: 'default' };

export function loadKubeConfig(source: KubeconfigSource): KubeConfig {
  const kc = new KubeConfig();
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
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig names no current cluster');
  return kc;
}

/** The API server URL, for logs. */
export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '';
}
