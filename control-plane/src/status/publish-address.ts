// The address written into Ingress status: fixed (--publish-address) or taken from the
// gateway Service (--publish-service ns/name), which is watched: its
// status.loadBalancer.ingress, or its spec.externalIPs when it has no load balancer
// address. `current()` is undefined until known (the Service's watch has not synced).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Service, WatchedObject } from '../sources/k8s-types.js';
import type { BackoffOptions } from '../sources/kube/backoff.js';
import { KINDS, makeApis, type KubeApis } from '../sources/kube/kinds.js';
import type { KubeLogger } from '../sources/kube/logger.js';
import { Reflector } from '../sources/kube/reflector.js';
import type { LoadBalancerIngress } from './ingress-status.js';

export type PublishSpec =
  | { readonly kind: 'addresses'; readonly addresses: readonly LoadBalancerIngress[] }
  | { readonly kind: 'service'; readonly namespace: string; readonly name: string };

export interface PublishAddresses {
  current(): readonly LoadBalancerIngress[] | undefined;
  onChange(fn: () => void): void;
  start(): void;
  stop(): Promise<void>;
}

export function staticAddresses(addresses: readonly LoadBalancerIngress[]): PublishAddresses {
  return { current: () => addresses, onChange: () => undefined, start: () => undefined, stop: async () => undefined };
}

type PublishedService = Service & {
  spec?: Service['spec'] & { externalIPs?: string[] };
  status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
};

export function addressesOfService(svc: PublishedService): LoadBalancerIngress[] {
  const lb = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i): LoadBalancerIngress[] => (i.ip ? [{ ip: i.ip }] : i.hostname ? [{ hostname: i.hostname }] : []));
  if (lb.length) return lb;
  return (svc.spec?.externalIPs ?? []).filter((ip) => typeof ip === 'string' && ip).map((ip) => ({ ip }));
}

export interface ServiceAddressesOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly logger: KubeLogger;
  readonly apis?: KubeApis;
  readonly backoff?: BackoffOptions;
}

export class ServiceAddresses implements PublishAddresses {
  private svc: PublishedService | undefined;
  private readonly listeners: Array<() => void> = [];
  private readonly reflector: Reflector;

  constructor(opts: ServiceAddressesOptions) {
    const fire = () => {
      for (const l of this.listeners) l();
    };
    this.reflector = new Reflector({
      kubeConfig: opts.kubeConfig,
      apis: opts.apis ?? makeApis(opts.kubeConfig),
      spec: KINDS.Service,
      namespace: opts.namespace,
      fieldSelector: `metadata.name=${opts.name}`,
      logger: opts.logger,
      backoff: opts.backoff,
      sink: {
        upsert: (o: WatchedObject) => {
          this.svc = o as PublishedService;
          fire();
        },
        remove: () => {
          this.svc = undefined;
          fire();
        },
      },
    });
    void this.reflector.synced.then(fire);
  }

  current(): readonly LoadBalancerIngress[] | undefined {
    if (!this.reflector.isSynced()) return undefined;
    return this.svc ? addressesOfService(this.svc) : [];
  }

  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }
}
