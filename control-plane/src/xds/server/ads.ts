// The AggregatedDiscoveryService implementation: one Session per stream, SotW or
// delta, and the set of open sessions (to count them and to end them on shutdown).
import type * as grpc from '@grpc/grpc-js';
import { DeltaStream } from './delta.js';
import type { EncodedResponse } from './encoded.js';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from './messages.js';
import { Session, type SessionDeps } from './session.js';
import { SotwStream } from './sotw.js';

export { ADS_SERVICE, adsServiceDefinition } from './definition.js';

type AnySession = Session<DiscoveryRequest, EncodedResponse> | Session<DeltaDiscoveryRequest, EncodedResponse>;

export class AdsService {
  private nextId = 1;
  private readonly sessions = new Set<AnySession>();

  constructor(private readonly deps: SessionDeps) {}

  implementation(): grpc.UntypedServiceImplementation {
    return {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, EncodedResponse>) => {
        this.track(new Session(this.nextId++, 'sotw', call, this.deps, (ctx) => new SotwStream(ctx), this.untrack));
      },
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, EncodedResponse>) => {
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
