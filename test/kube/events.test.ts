// Diagnostics → core/v1 Events on the Ingress, through the real client against the
// stand-in API server: deterministic names, deduplication by count, rate limits, no
// more Warnings once fixed (one Normal "Accepted"), leader-only writes and adoption.
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../control-plane/src/diagnostics.js';
import { EventRecorder, eventName, type ObjectInfo } from '../../control-plane/src/status/events.js';
import { eventApi } from '../../control-plane/src/status/kube-api.js';
import type { RateLimit } from '../../control-plane/src/status/token-bucket.js';
import { testApiServer, type Obj, type TestApiServer } from '../helpers/fake-apiserver.js';
import { kubeConfigFor, logger } from './helpers.js';

const missing = (service = 'ghost'): Diagnostic => ({
  code: 'XG_SERVICE_NOT_FOUND',
  level: 'error',
  object: { kind: 'Ingress', namespace: 'default', name: 'shop' },
  field: 'spec.rules[0].http.paths[0].backend',
  message: `Service default/${service} does not exist; requests get 503 until it does`,
});

interface Harness {
  api: TestApiServer;
  recorder: EventRecorder;
  info: { current: ObjectInfo | undefined };
  leader: { current: boolean };
  events(): Obj[];
}

async function harness(opts: { leader?: boolean; perObject?: RateLimit; api?: TestApiServer; uid?: string } = {}): Promise<Harness> {
  const api = opts.api ?? (await testApiServer());
  const info = { current: { uid: opts.uid ?? 'uid-1', resourceVersion: '7', contentVersion: 'v1' } as ObjectInfo | undefined };
  const leader = { current: opts.leader ?? true };
  const recorder = new EventRecorder({
    api: eventApi(kubeConfigFor(api)),
    instance: 'xgate-0',
    logger,
    lookup: () => info.current,
    isServed: () => true,
    isLeader: () => leader.current,
    perObject: opts.perObject,
  });
  return { api, recorder, info, leader, events: () => api.list('v1', 'Event', 'default') };
}

describe('Events from diagnostics', () => {
  it('writes a Warning Event on the Ingress with the code as reason and the diagnostic as message', async () => {
    const h = await harness();
    h.recorder.update([missing()]);
    await h.recorder.idle();
    const [e, ...rest] = h.events();
    expect(rest).toEqual([]);
    expect(e!['type']).toBe('Warning');
    expect(e!['reason']).toBe('XG_SERVICE_NOT_FOUND');
    expect(e!['message']).toBe('spec.rules[0].http.paths[0].backend: Service default/ghost does not exist; requests get 503 until it does');
    expect(e!['count']).toBe(1);
    expect(e!['involvedObject']).toEqual({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'default', name: 'shop', uid: 'uid-1', resourceVersion: '7' });
    expect(e!['source']).toEqual({ component: 'xgate', host: 'xgate-0' });
    // Whole seconds (the client's serializer writes Dates with .000).
    expect(e!['firstTimestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.000)?Z$/);
    expect(e!['metadata']['name']).toMatch(/^shop\.[0-9a-f]{16}$/);
  });

  it('deduplicates: the same problem again bumps count on the same Event; rebuilds alone do not', async () => {
    const h = await harness();
    h.recorder.update([missing()]);
    await h.recorder.idle();
    const name = h.events()[0]!['metadata']['name'];
    // Rebuilds with the same problem on an unchanged Ingress: nothing is written.
    for (let i = 0; i < 5; i++) h.recorder.update([missing()]);
    await h.recorder.idle();
    expect(h.api.requests({ resource: 'events' }).length).toBe(1);
    // The Ingress is edited and still has the problem: count 2, same Event.
    h.info.current = { ...h.info.current!, resourceVersion: '8', contentVersion: 'v2' };
    h.recorder.update([missing()]);
    await h.recorder.idle();
    h.info.current = { ...h.info.current!, resourceVersion: '9', contentVersion: 'v3' };
    h.recorder.update([missing()]);
    await h.recorder.idle();
    const events = h.events();
    expect(events.length).toBe(1);
    expect(events[0]!['metadata']['name']).toBe(name);
    expect(events[0]!['count']).toBe(3);
    expect(h.api.requests({ verb: 'create', resource: 'events' }).length).toBe(1);
    expect(h.api.requests({ verb: 'patch', resource: 'events' }).every((r) => r.contentType === 'application/merge-patch+json')).toBe(true);
    // A different problem is a different Event.
    h.recorder.update([missing('other')]);
    await h.recorder.idle();
    expect(h.events().length).toBe(2);
  });

  it('stops Warnings once the Ingress is fixed and says so once with a Normal Accepted Event', async () => {
    const h = await harness();
    h.recorder.update([missing()]);
    await h.recorder.idle();
    h.recorder.update([]);
    await h.recorder.idle();
    for (let i = 0; i < 3; i++) {
      h.info.current = { ...h.info.current!, contentVersion: `fixed-${i}` };
      h.recorder.update([]);
    }
    await h.recorder.idle();
    const events = h.events();
    expect(events.map((e) => [e['type'], e['reason'], e['count']]).sort()).toEqual([
      ['Normal', 'Accepted', 1],
      ['Warning', 'XG_SERVICE_NOT_FOUND', 1],
    ]);
    expect(h.recorder.stats).toMatchObject({ created: 2, updated: 0, rateLimited: 0 });
  });

  it('rate-limits per object', async () => {
    const h = await harness({ perObject: { burst: 2, perSecond: 0.001 } });
    h.recorder.update([missing('a'), missing('b'), missing('c')]);
    await h.recorder.idle();
    expect(h.events().length).toBe(2);
    expect(h.recorder.stats.rateLimited).toBe(1);
  });

  it('writes nothing while not leading; a new leader adopts existing Events without counting them again', async () => {
    const first = await harness();
    first.recorder.update([missing()]);
    await first.recorder.idle();
    // A second replica, following, sees the same problem: it writes nothing.
    const second = await harness({ api: first.api, leader: false });
    second.recorder.update([missing()]);
    await second.recorder.idle();
    expect(first.api.requests({ resource: 'events' }).length).toBe(1);
    // It becomes the leader (the first one died): its sweep finds the Event and adopts it.
    first.leader.current = false;
    second.leader.current = true;
    second.recorder.leadershipChanged();
    await second.recorder.idle();
    expect(first.events().length).toBe(1);
    expect(first.events()[0]!['count']).toBe(1);
    expect(second.recorder.stats.adopted).toBe(1);
    // Adoption reads the count from an empty merge patch: only create and patch are used.
    expect(new Set(first.api.requests({ resource: 'events' }).map((r) => r.verb))).toEqual(new Set(['create', 'patch']));
    // A new occurrence under the new leader counts on the same Event.
    second.info.current = { ...second.info.current!, contentVersion: 'v2' };
    second.recorder.update([missing()]);
    await second.recorder.idle();
    expect(first.events().length).toBe(1);
    expect(first.events()[0]!['count']).toBe(2);
  });

  it('re-creates an Event that expired', async () => {
    const h = await harness();
    h.recorder.update([missing()]);
    await h.recorder.idle();
    const name = h.events()[0]!['metadata']['name'];
    h.api.remove('v1', 'Event', 'default', name);
    h.info.current = { ...h.info.current!, contentVersion: 'v2' };
    h.recorder.update([missing()]);
    await h.recorder.idle();
    expect(h.events().map((e) => [e['metadata']['name'], e['count']])).toEqual([[name, 1]]);
  });

  it('names Events deterministically and validly', () => {
    expect(eventName('shop', 'x')).toBe(eventName('shop', 'x'));
    expect(eventName('shop', 'x')).not.toBe(eventName('shop', 'y'));
    const long = eventName(`${'a'.repeat(240)}-b`, 'x');
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  });
});
