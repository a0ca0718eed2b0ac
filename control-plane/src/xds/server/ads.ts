// The AggregatedDiscoveryService implementation: one Session per stream, SotW or
// delta, and the set of open sessions (to count them and to end them on shutdown).
import * as grpc from '@grpc/grpc-js';
import { adsPackageDefinition } from '../../../../protos/loader.js';
import { DeltaStream } from './delta.js';
import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from './messages.js';
import { Session, type SessionDeps } from './session.js';
import { SotwStream } from './sotw.js';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

let definition: grpc.ServiceDefinition | undefined;

/** The ADS service definition, loaded once per process. */
export function adsServiceDefinition(): grpc.ServiceDefinition {
  definition ??= adsPackageDefinition()[ADS_SERVICE] as grpc.ServiceDefinition;
  return definition;
}

type AnySession = Session<DiscoveryRequest, DiscoveryResponse> | Session<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;

export class AdsService {
  private nextId = 1;
  private readonly sessions = new Set<AnySession>();

  constructor(private readonly deps: SessionDeps) {}

  implementation(): grpc.UntypedServiceImplementation {
    return {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
        this.track(new Session(this.nextId++, 'sotw', call, this.deps, (ctx) => new SotwStream(ctx), this.untrack));
      },
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => {
        this.track(new Session(this.nextId++, 'delta', call, this.deps, (ctx) => new DeltaStream(ctx), this.untrack));
      },
    };
  }

  /** Open streams, including those that have not sent their first request yet. */
  count(): number {
    return this.sessions.size;
  }

  /** Ends every open stream with the given status. */
  finishAll(code: grpc.status, details: string): void {
    for (const s of [...this.sessions]) s.finish(code, details);
  }

  private track(session: AnySession): void {
    this.sessions.add(session);
  }

  private readonly untrack = (session: AnySession): void => {
    this.sessions.delete(session);
  };
}
