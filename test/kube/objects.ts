// Kubernetes objects for the kube tests, in the API's JSON shape.
import type { Backend } from '../helpers/backends.js';

export const INGRESS_CLASS = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'xgate' },
  spec: { controller: 'xgate.io/ingress-controller' },
};

export interface IngressPath {
  readonly path?: string;
  readonly service: string;
  readonly port?: number;
}

export function ingress(name: string, host: string, paths: readonly IngressPath[], opts: { namespace?: string; className?: string | null; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: opts.namespace ?? 'default', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      ...(opts.className === null ? {} : { ingressClassName: opts.className ?? 'xgate' }),
      rules: [
        {
          host,
          http: {
            paths: paths.map((p) => ({ path: p.path ?? '/', pathType: 'Prefix', backend: { service: { name: p.service, port: { number: p.port ?? 80 } } } })),
          },
        },
      ],
    },
  };
}

export function service(name: string, opts: { namespace?: string; port?: number } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port: opts.port ?? 80, protocol: 'TCP' }] },
  };
}

export function endpointSlice(name: string, serviceName: string, backends: readonly Pick<Backend, 'host' | 'port'>[], opts: { namespace?: string; ready?: boolean } = {}) {
  const ports = [...new Set(backends.map((b) => b.port))];
  if (ports.length > 1) throw new Error('one EndpointSlice carries one port here; use a slice per backend');
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: ports[0] ?? 80, protocol: 'TCP' }],
    endpoints: backends.map((b) => ({ addresses: [b.host], conditions: { ready: opts.ready ?? true, serving: opts.ready ?? true, terminating: false } })),
  };
}

export function secret(name: string, type: string, data: Record<string, string>, namespace = 'default') {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** Polls `check` until it returns a truthy value (returned) or the time runs out. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
