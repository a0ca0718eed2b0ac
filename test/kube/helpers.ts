// Shared bits of the kube tests: a logger, a kubeconfig loader.
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, silentLogger } from '../../control-plane/src/log.js';
import type { TestApiServer } from '../helpers/fake-apiserver.js';

export const logger = process.env['XGATE_TEST_LOG'] ? createLogger({ level: 'debug' }) : silentLogger();

export function kubeConfigFor(api: TestApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigFile);
  return kc;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
