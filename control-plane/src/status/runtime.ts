// What the Kubernetes mode adds after the informers have synced: leader election on a
// Lease, and — on the leader only — Ingress status and Events from diagnostics. Every
// replica runs this; followers only track state so they can take over.
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Diagnostic, ObjectRef } from '../diagnostics.js';
import type { ModelOptions } from '../model/options.js';
import type { KubeLogger } from '../sources/kube/logger.js';
import type { Store } from '../sources/store.js';
import { EventRecorder, type ObjectInfo } from './events.js';
import { IngressStatusWriter } from './ingress-status.js';
import { eventApi, ingressStatusApi, leaseStore } from './kube-api.js';
import { LeaderElector, type ElectionTiming } from './leader.js';
import { ServiceAddresses, staticAddresses, type PublishAddresses, type PublishSpec } from './publish-address.js';
import { ServedIngresses } from './served.js';

export interface ElectionOptions extends ElectionTiming {
  readonly namespace: string;
  /** The Lease name. */
  readonly id: string;
}

export interface StatusRuntimeOptions {
  readonly kubeConfig: KubeConfig;
  readonly store: Store;
  readonly model: ModelOptions;
  readonly logger: KubeLogger;
  /** This replica's name (Lease holder, Event source host). */
  readonly identity: string;
  readonly election: ElectionOptions;
  /** Where Ingress status addresses come from; without it, status is not written. */
  readonly publish?: PublishSpec;
}

export class StatusRuntime {
  readonly elector: LeaderElector;
  readonly events: EventRecorder;
  readonly status: IngressStatusWriter | undefined;
  private readonly publish: PublishAddresses | undefined;

  constructor(opts: StatusRuntimeOptions) {
    const { kubeConfig: kc, store, logger } = opts;
    const served = new ServedIngresses(opts.model);
    const isLeader = () => this.elector.isLeader();
    this.events = new EventRecorder({
      api: eventApi(kc),
      instance: opts.identity,
      logger,
      isLeader,
      lookup: (ref) => ingressInfo(store, ref),
      isServed: (ref) => served.of(store.snapshot()).has(`${ref.namespace}/${ref.name}`),
    });
    if (opts.publish) {
      const p = opts.publish;
      this.publish = p.kind === 'service' ? new ServiceAddresses({ kubeConfig: kc, namespace: p.namespace, name: p.name, logger }) : staticAddresses(p.addresses);
      const publish = this.publish;
      this.status = new IngressStatusWriter({ store, api: ingressStatusApi(kc), served: (s) => served.of(s), addresses: () => publish.current(), isLeader, logger });
      publish.onChange(() => this.status?.kick());
    } else {
      this.status = undefined;
      logger.info({}, 'no --publish-service or --publish-address: Ingress status is not written');
    }
    const { namespace, id, ...timing } = opts.election;
    this.elector = new LeaderElector({
      ...timing,
      store: leaseStore(kc, namespace, id),
      lease: `${namespace}/${id}`,
      identity: opts.identity,
      logger,
      onStartedLeading: () => this.leadershipChanged(),
      onStoppedLeading: () => this.leadershipChanged(),
    });
  }

  start(): void {
    this.publish?.start();
    this.status?.start();
    this.elector.start();
  }

  /** Every diagnostic of the latest build. */
  diagnostics(all: readonly Diagnostic[]): void {
    this.events.update(all);
  }

  isLeader(): boolean {
    return this.elector.isLeader();
  }

  /** Releases the Lease (when leading) and stops. */
  async stop(): Promise<void> {
    this.status?.stop();
    this.events.stop();
    await this.elector.stop();
    await this.publish?.stop();
  }

  private leadershipChanged(): void {
    this.events.leadershipChanged();
    this.status?.kick();
  }
}

/** JSON with object keys sorted: the same content gives the same text, whatever the key order. */
function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
}

function ingressInfo(store: Store, ref: ObjectRef): ObjectInfo | undefined {
  const ing = store.snapshot().ingresses.get(`${ref.namespace}/${ref.name}`);
  if (!ing) return undefined;
  const content = stableJson([ing.spec ?? null, ing.metadata.annotations ?? null, ing.metadata.labels ?? null]);
  return { uid: ing.metadata.uid, resourceVersion: ing.metadata.resourceVersion, contentVersion: createHash('sha1').update(content).digest('hex') };
}
