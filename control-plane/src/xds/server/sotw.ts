// State-of-the-world ADS, per stream. Per type: what the stream subscribed to, the
// last response sent (and whether it awaits its ACK), and the last ACKed one, which
// is what the proxy holds. One response per type is in flight at most; snapshots
// that arrive meanwhile coalesce into the next one. See push-order.ts for make
// before break: while the proxy's listeners and routes are not ACKed at their new
// version, full-state CDS (and EDS, SDS) keep what the proxy holds and is about to lose.
// RDS, EDS and SDS responses after the first ACK carry only the resources that changed.
import type { Resource, Snapshot } from '../cache/types.js';
import { SHORT_NAMES, type TypeUrl } from '../type-urls.js';
import { EncodedResponse } from './encoded.js';
import type { DiscoveryRequest } from './messages.js';
import { isReferenced, isReferring, PUSH_ORDER, REFERRING } from './push-order.js';
import type { ProtocolStream, StreamContext } from './stream-context.js';
import { Subscription } from './subscription.js';
import { compare, namesOf, selectionOf, sotwBodyOf, sotwPartialBodyOf, versionOf, type ResourceMap } from './wire.js';
import { ENDPOINT, ROUTE, SECRET } from '../type-urls.js';

/**
 * Types whose SotW responses need not list every resource: a name left out keeps the
 * client's copy (xDS protocol: only LDS, CDS and the like are full-state). SRDS stays
 * full-state: Envoy drops scopes a SotW response leaves out.
 */
const PARTIAL_TYPES: ReadonlySet<TypeUrl> = new Set([ROUTE, ENDPOINT, SECRET]);

interface Offer {
  readonly version: string;
  readonly resources: ResourceMap;
}

interface Sent extends Offer {
  readonly nonce: string;
}

class SotwType {
  readonly sub = new Subscription();
  /** version_info of the first request: what a reconnecting client already holds. */
  clientVersion = '';
  sent: Sent | undefined;
  /** The last response sent is neither ACKed nor NACKed yet. */
  pending = false;
  /** The last response ACKed: what the proxy holds. */
  acked: Offer | undefined;
  /** The last response sent was NACKed; the proxy still holds `acked`. */
  nacked = false;
  /** Requests that changed the name list; the count when `sent` was sent, and when the ACKed response was. */
  listChanges = 0;
  sentListChanges = 0;
  ackedListChanges = -1;
}

export class SotwStream implements ProtocolStream<DiscoveryRequest> {
  private readonly types = new Map<TypeUrl, SotwType>();

  constructor(private readonly ctx: StreamContext<EncodedResponse>) {}

  onRequest(typeUrl: TypeUrl, req: DiscoveryRequest): void {
    let st = this.types.get(typeUrl);
    const first = st === undefined;
    st ??= new SotwType();
    this.types.set(typeUrl, st);
    const names = req.resource_names ?? [];
    if (names.length > this.ctx.maxNamesPerType) {
      this.ctx.refuse(`${SHORT_NAMES[typeUrl]}: more than ${this.ctx.maxNamesPerType} resource names`);
      return;
    }
    if (st.sent) {
      const nonce = req.response_nonce ?? '';
      if (nonce !== st.sent.nonce) {
        this.ctx.logger.debug({ stream: this.ctx.id, type: SHORT_NAMES[typeUrl], nonce }, 'stale nonce, request ignored');
        return;
      }
      if (st.pending) this.settle(typeUrl, st, req);
    } else if (first) {
      st.clientVersion = req.version_info ?? '';
    }
    if (st.sub.setSotw(names, first)) st.listChanges++;
  }

  flush(): void {
    const snap = this.ctx.snapshot();
    if (!snap) return;
    // Listeners and routes first: whether they are settled decides what CDS/EDS/SDS may drop.
    const offers = new Map<TypeUrl, Offer>();
    let referringUnsettled = false;
    for (const t of REFERRING) {
      const st = this.types.get(t);
      if (!st) continue;
      const offer = this.offer(t, st, snap, false);
      offers.set(t, offer);
      if (this.adoptable(st, offer)) this.adopt(t, st, offer);
      if (st.pending || st.nacked || this.differs(st, offer)) referringUnsettled = true;
    }
    let holdReferring = false;
    for (const t of PUSH_ORDER) {
      const st = this.types.get(t);
      if (!st) continue;
      const offer = offers.get(t) ?? this.offer(t, st, snap, referringUnsettled);
      if (this.adoptable(st, offer)) {
        this.adopt(t, st, offer);
        continue;
      }
      if (!this.differs(st, offer)) continue;
      if (st.pending) {
        // A newer CDS/EDS/SDS waits for the ACK of the last one: so do listeners and routes.
        if (isReferenced(t)) holdReferring = true;
        continue;
      }
      if (isReferring(t) && holdReferring) continue;
      this.send(t, st, offer);
    }
  }

  /** What this stream should hold of type t now. */
  private offer(t: TypeUrl, st: SotwType, snap: Snapshot, keepLosing: boolean): Offer {
    const ts = snap.types[t];
    let resources: ResourceMap;
    let version: string;
    if (st.sub.wildcard) {
      resources = ts.resources;
      version = ts.version;
    } else {
      // Streams that name the same resources share one selection (and so one encoded body).
      const sorted = st.sub.sorted();
      ({ resources, version } = selectionOf(ts.resources, sorted.names, sorted.key));
    }
    if (keepLosing && isReferenced(t) && st.acked && st.acked.resources !== resources) {
      const losing: [string, Resource][] = [];
      for (const [n, r] of st.acked.resources) if (!resources.has(n) && st.sub.wants(n)) losing.push([n, r]);
      if (losing.length > 0) {
        const m = new Map([...resources, ...losing].sort(([a], [b]) => compare(a, b)));
        resources = m;
        version = versionOf(m);
      }
    }
    return { version, resources };
  }

  /** True if the offer is news to the stream. A named subscription to nothing that exists waits. */
  private differs(st: SotwType, offer: Offer): boolean {
    if (st.sent) return offer.version !== st.sent.version;
    return st.sub.wildcard || offer.resources.size > 0;
  }

  private send(t: TypeUrl, st: SotwType, offer: Offer): void {
    const nonce = this.ctx.nextNonce();
    // RDS, EDS and SDS: only what changed since the ACKed response (the client keeps the rest).
    // Only while the name list is the one of the ACKed response: a name dropped and asked
    // for again may be a new watch in the client that holds nothing yet.
    const partial = PARTIAL_TYPES.has(t) && st.acked && st.ackedListChanges === st.listChanges ? sotwPartialBodyOf(t, offer.version, st.acked.resources, offer.resources) : undefined;
    this.ctx.send(new EncodedResponse(partial ?? sotwBodyOf(t, offer.version, offer.resources), nonce));
    st.sent = { ...offer, nonce };
    st.sentListChanges = st.listChanges;
    st.pending = true;
    this.ctx.observers.sent(this.ctx.id, t, offer.version, namesOf(offer.resources), nonce);
  }

  /** A reconnecting client already holds this exact version: nothing to send. */
  private adoptable(st: SotwType, offer: Offer): boolean {
    return !st.sent && st.clientVersion !== '' && st.clientVersion === offer.version;
  }

  private adopt(t: TypeUrl, st: SotwType, offer: Offer): void {
    st.sent = { ...offer, nonce: '' };
    st.acked = offer;
    st.sentListChanges = st.ackedListChanges = st.listChanges;
    this.ctx.observers.acked(this.ctx.id, t, offer.version, namesOf(offer.resources));
  }

  private settle(t: TypeUrl, st: SotwType, req: DiscoveryRequest): void {
    const sent = st.sent!;
    st.pending = false;
    if (req.error_detail) {
      st.nacked = true;
      const message = req.error_detail.message ?? '';
      this.ctx.logger.warn(
        { stream: this.ctx.id, node: this.ctx.node.id, type: SHORT_NAMES[t], version: sent.version, message },
        'proxy rejected a response (NACK)',
      );
      this.ctx.observers.nacked(this.ctx.id, t, sent.version, message);
    } else {
      st.nacked = false;
      st.acked = { version: sent.version, resources: sent.resources };
      st.ackedListChanges = st.sentListChanges;
      this.ctx.observers.acked(this.ctx.id, t, sent.version, namesOf(sent.resources));
    }
  }
}
