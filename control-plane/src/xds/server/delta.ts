// Incremental (delta) ADS, per stream. Per type: the subscription, and `known`, the
// version of every resource the client holds (counting the response in flight, which
// a NACK undoes). A response carries only what differs from `known`, plus
// removed_resources for deletions and for subscribed names that do not exist. One
// response per type is in flight at most. Make before break: removals of CDS, EDS
// and SDS resources wait until the stream's listeners and routes are ACKed.
import type { Resource, Snapshot, TypeSnapshot } from '../cache/types.js';
import { SHORT_NAMES, type TypeUrl } from '../type-urls.js';
import { EncodedResponse } from './encoded.js';
import type { DeltaDiscoveryRequest } from './messages.js';
import { isReferenced, isReferring, PUSH_ORDER, REFERRING } from './push-order.js';
import type { ProtocolStream, StreamContext } from './stream-context.js';
import { DeltaSubscription, WILDCARD } from './subscription.js';
import { KnownVersions } from './known.js';
import { changedNames, deltaBodyOf, type ResourceMap } from './wire.js';

/** In `rejected`, the version that stands for "the removal was rejected". */
const REMOVAL = '';

interface InFlight {
  readonly nonce: string;
  readonly version: string;
  /** Per changed name, what `known` said before this response (undefined: absent). */
  readonly undo: Map<string, string | undefined>;
  /** Per changed name, the version sent, or REMOVAL. */
  readonly sent: ReadonlyMap<string, string>;
}

interface Plan {
  readonly updates: Resource[];
  readonly removals: string[];
  /** Some removal waits for listeners and routes to be ACKed. */
  readonly held: boolean;
  /** Once the plan is sent, the client holds exactly the TypeSnapshot (nothing held back or refused). */
  readonly complete: boolean;
}

class DeltaType {
  readonly sub = new DeltaSubscription();
  /** name → version the client holds (counting the response in flight). */
  readonly known = new KnownVersions();
  /** Subscribed names already reported as not existing. */
  readonly toldAbsent = new Set<string>();
  /** name → version (or REMOVAL) the client NACKed: never sent again as is. */
  readonly rejected = new Map<string, string>();
  inFlight: InFlight | undefined;
  nacked = false;
  /** A fresh wildcard subscription is answered even when there is nothing to send. */
  answerEmpty = false;
  /** Nothing to send for this TypeSnapshot, as of the last request and send. */
  settledOn: TypeSnapshot | undefined;
  /**
   * Explicit subscriptions (not wildcard): the resource map every subscribed name was
   * last planned against, with the outcome applied (sent, or nothing to send), and the
   * names this stream's own state changed for since (subscribed, dropped, NACKed). The
   * next plan considers only what changed between that map and the new one, and those
   * names: an Envoy subscribes to EDS by name, one per cluster (16k at 10k Ingresses).
   */
  checkedAgainst: ReadonlyMap<string, Resource> | undefined;
  readonly touched = new Set<string>();
  /**
   * Explicit subscriptions: the subscribed names are exactly the names of `known`'s base
   * map (set when a reconnecting client presented a whole snapshot; cleared by any change
   * of subscription), so that once the client holds a later snapshot whole, `known` moves
   * onto that map instead of keeping the old one (and its resources) alive.
   */
  namesAreBase = false;

  /** The subscribed names may no longer be the base map's: `known` lets that map go. */
  namesDiverge(): void {
    if (!this.namesAreBase) return;
    this.namesAreBase = false;
    this.known.detach();
  }

  forget(name: string): void {
    this.touched.add(name);
    this.namesDiverge();
    this.known.delete(name);
    this.toldAbsent.delete(name);
    this.rejected.delete(name);
    this.inFlight?.undo.delete(name);
  }
}

export class DeltaStream implements ProtocolStream<DeltaDiscoveryRequest> {
  private readonly types = new Map<TypeUrl, DeltaType>();

  constructor(private readonly ctx: StreamContext<EncodedResponse>) {}

  onRequest(typeUrl: TypeUrl, req: DeltaDiscoveryRequest): void {
    let st = this.types.get(typeUrl);
    const first = st === undefined;
    st ??= new DeltaType();
    this.types.set(typeUrl, st);
    st.settledOn = undefined;
    // Subscription changes count even when the nonce is stale.
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    if (first) {
      st.sub.init(subscribe);
      const presented = req.initial_resource_versions ?? {};
      // A client presenting exactly the current snapshot's resources (every client
      // reconnecting after a control-plane restart, once the new process has the same
      // build), subscribed by wildcard or by name to exactly those resources (an Envoy's
      // EDS, route shards): its holdings are that snapshot's map, shared, with nothing of
      // its own to insert or plan against name by name.
      const ts = this.ctx.snapshot()?.types[typeUrl];
      if (ts && holdsExactly(presented, ts.resources) && (st.sub.wildcard || subscribesExactly(st.sub.names, ts.resources))) {
        st.known.rebase(ts.resources);
        if (!st.sub.wildcard) {
          st.checkedAgainst = ts.resources;
          st.namesAreBase = true;
        }
      } else {
        for (const name in presented) {
          if (st.sub.wants(name)) st.known.set(name, presented[name]!);
        }
      }
      st.answerEmpty = st.sub.wildcard && st.known.size === 0;
    } else {
      // A new subscription, or one dropped (even one covered by wildcard), is answered afresh.
      for (const name of st.sub.subscribe(subscribe)) st.forget(name);
      const wasWildcard = st.sub.wildcard;
      st.sub.unsubscribe(unsubscribe);
      for (const name of unsubscribe) if (name !== WILDCARD) st.forget(name);
      if (wasWildcard && !st.sub.wildcard) {
        for (const name of [...st.known.keys()]) if (!st.sub.names.has(name)) st.forget(name);
      }
      if (wasWildcard !== st.sub.wildcard) {
        st.checkedAgainst = undefined;
        st.namesDiverge();
      }
    }
    if (st.sub.names.size > this.ctx.maxNamesPerType) {
      this.ctx.refuse(`${SHORT_NAMES[typeUrl]}: more than ${this.ctx.maxNamesPerType} resource names`);
      return;
    }
    const nonce = req.response_nonce ?? '';
    if (st.inFlight && nonce === st.inFlight.nonce) this.settle(typeUrl, st, req);
    else if (nonce !== '') {
      this.ctx.logger.debug({ stream: this.ctx.id, type: SHORT_NAMES[typeUrl], nonce }, 'stale nonce, only subscriptions applied');
    }
  }

  flush(): void {
    const snap = this.ctx.snapshot();
    if (!snap) return;
    const plans = new Map<TypeUrl, Plan>();
    let referringUnsettled = false;
    for (const t of REFERRING) {
      const st = this.types.get(t);
      if (!st) continue;
      const ts = snap.types[t];
      const plan = st.settledOn === ts ? NOTHING : this.plan(st, ts, false);
      plans.set(t, plan);
      if (st.inFlight || st.nacked || !isEmpty(plan)) referringUnsettled = true;
    }
    let holdReferring = false;
    for (const t of PUSH_ORDER) {
      const st = this.types.get(t);
      if (!st) continue;
      const ts = snap.types[t];
      if (st.settledOn === ts) continue;
      const plan = plans.get(t) ?? this.plan(st, ts, referringUnsettled && isReferenced(t));
      if (isEmpty(plan) && !st.answerEmpty) {
        if (!plan.held) st.settledOn = ts;
        this.settleKnown(st, ts, plan);
        continue;
      }
      if (st.inFlight) {
        if (isReferenced(t)) holdReferring = true;
        continue;
      }
      if (isReferring(t) && holdReferring) continue;
      this.send(t, st, ts, plan);
    }
  }

  private plan(st: DeltaType, ts: TypeSnapshot, holdRemovals: boolean): Plan {
    const updates: Resource[] = [];
    const removals: string[] = [];
    let held = false;
    let refused = false;
    const consider = (name: string): void => {
      const r = ts.resources.get(name);
      if (r) {
        if (st.known.get(name) === r.version) return;
        if (st.rejected.get(name) === r.version) refused = true;
        else updates.push(r);
      } else if (st.known.has(name)) {
        if (st.rejected.get(name) === REMOVAL) refused = true;
        else if (holdRemovals) held = true;
        else removals.push(name);
      } else if (st.sub.names.has(name) && !st.toldAbsent.has(name) && st.rejected.get(name) !== REMOVAL) {
        removals.push(name);
      }
    };
    const base = st.known.baseMap();
    if (st.sub.wildcard && base) {
      // In step with an earlier snapshot: only names that changed since it, and this
      // stream's own differences and explicit names, can need anything.
      const changed = changedNames(base, ts.resources);
      if (st.sub.names.size === 0 && st.known.differences().next().done) for (const name of changed) consider(name);
      else {
        const names = new Set(changed);
        for (const name of st.known.differences()) names.add(name);
        for (const name of st.sub.names) names.add(name);
        for (const name of names) consider(name);
      }
    } else if (!st.sub.wildcard && st.checkedAgainst) {
      // Only what changed since the map last planned against, and this stream's own changes.
      const names = new Set<string>();
      for (const name of changedNames(st.checkedAgainst, ts.resources)) if (st.sub.names.has(name) || st.known.has(name)) names.add(name);
      for (const name of st.touched) if (st.sub.names.has(name) || st.known.has(name)) names.add(name);
      for (const name of names) consider(name);
    } else {
      if (st.sub.wildcard) for (const name of ts.resources.keys()) consider(name);
      for (const name of st.sub.names) if (!(st.sub.wildcard && ts.resources.has(name))) consider(name);
      for (const name of st.known.keys()) if (!ts.resources.has(name) && !st.sub.names.has(name)) consider(name);
    }
    return { updates, removals, held, complete: !held && !refused };
  }

  /** After a plan for `ts` is sent (or found empty): a wildcard client that now holds exactly `ts` shares its map. */
  private settleKnown(st: DeltaType, ts: TypeSnapshot, plan: Plan): void {
    if (plan.complete && st.sub.wildcard && st.known.baseMap() !== ts.resources) st.known.rebase(ts.resources);
    if (plan.complete && !st.sub.wildcard) {
      const base = st.known.baseMap();
      // Holding exactly the subscribed names at ts's versions, and those are ts's names
      // when no name was added to or removed from the base since: ts's map, shared.
      if (st.namesAreBase && base && base !== ts.resources) {
        if (changedNames(base, ts.resources).every((name) => base.has(name) === ts.resources.has(name))) st.known.rebase(ts.resources);
        else st.namesDiverge();
      }
      st.checkedAgainst = ts.resources;
      st.touched.clear();
    }
  }

  private send(t: TypeUrl, st: DeltaType, ts: TypeSnapshot, plan: Plan): void {
    const nonce = this.ctx.nextNonce();
    this.ctx.send(new EncodedResponse(deltaBodyOf(t, ts, plan.updates, plan.removals), nonce));
    const undo = new Map<string, string | undefined>();
    const sent = new Map<string, string>();
    for (const r of plan.updates) {
      undo.set(r.name, st.known.get(r.name));
      sent.set(r.name, r.version);
      st.known.set(r.name, r.version);
      st.rejected.delete(r.name);
      st.toldAbsent.delete(r.name);
    }
    for (const name of plan.removals) {
      undo.set(name, st.known.get(name));
      sent.set(name, REMOVAL);
      st.known.delete(name);
      if (st.sub.names.has(name)) st.toldAbsent.add(name);
    }
    this.settleKnown(st, ts, plan);
    st.inFlight = { nonce, version: ts.version, undo, sent };
    st.answerEmpty = false;
    st.settledOn = undefined;
    this.ctx.observers.sent(this.ctx.id, t, ts.version, plan.updates.map((r) => r.name), nonce);
  }

  private settle(t: TypeUrl, st: DeltaType, req: DeltaDiscoveryRequest): void {
    const done = st.inFlight!;
    st.inFlight = undefined;
    if (req.error_detail) {
      // The client keeps what it had: undo, and remember what it refused.
      for (const [name, before] of done.undo) {
        if (before === undefined) st.known.delete(name);
        else st.known.set(name, before);
        st.rejected.set(name, done.sent.get(name) ?? REMOVAL);
        st.touched.add(name);
      }
      st.nacked = true;
      const message = req.error_detail.message ?? '';
      this.ctx.logger.warn(
        { stream: this.ctx.id, node: this.ctx.node.id, type: SHORT_NAMES[t], version: done.version, message },
        'proxy rejected a response (NACK)',
      );
      this.ctx.observers.nacked(this.ctx.id, t, done.version, message);
    } else {
      st.nacked = false;
      this.ctx.observers.acked(this.ctx.id, t, done.version, st.known.names());
    }
  }
}

// Not `complete`: finding nothing new for a referring type must not rebase what it holds.
const NOTHING: Plan = { updates: [], removals: [], held: false, complete: false };

function isEmpty(plan: Plan): boolean {
  return plan.updates.length === 0 && plan.removals.length === 0;
}

/** Whether `presented` (name → version) names exactly the resources of `resources`, at their versions. */
function holdsExactly(presented: Readonly<Record<string, string>>, resources: ResourceMap): boolean {
  let n = 0;
  for (const name in presented) {
    if (resources.get(name)?.version !== presented[name]) return false;
    n++;
  }
  return n === resources.size;
}

/** Whether `names` are exactly the names of `resources`. */
function subscribesExactly(names: ReadonlySet<string>, resources: ResourceMap): boolean {
  if (names.size !== resources.size) return false;
  for (const name of names) if (!resources.has(name)) return false;
  return true;
}
