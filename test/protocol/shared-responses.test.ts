// Responses encoded once and shared by streams (server/encoded.ts): the bytes are the
// message's own encoding with each stream's nonce, and streams written to in the same
// tick each get their own nonce and are tracked apart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import { adsServiceDefinition } from '../../control-plane/src/xds/server/ads.js';
import { bodyEncoder } from '../../control-plane/src/xds/server/definition.js';
import { EncodedResponse, SharedBody } from '../../control-plane/src/xds/server/encoded.js';
import type { Resource } from '../../control-plane/src/xds/cache/types.js';
import { deltaBodyOf, selectionOf, sotwBodyOf } from '../../control-plane/src/xds/server/wire.js';
import { CLUSTER, ENDPOINT, ROUTE } from '../../control-plane/src/xds/type-urls.js';
import { ack, deltaAck, deltaNames, ENVOY_NODE, resourceNames, type DeltaStream, type SotwStream } from '../helpers/ads-client.js';
import { cluster, endpoints, startHarness, until, type Harness } from './harness.js';

const T = { timeout: 20_000 };

// The messages protobufjs is given for the same bodies (the reference the body writer is compared with).
const anyOf = (r: Resource) => ({ type_url: r.typeUrl, value: r.bytes });
const anyListOf = (m: ReadonlyMap<string, Resource>) => [...m.values()].map(anyOf);
const deltaResourceOf = (r: Resource) => ({ name: r.name, version: r.version, resource: anyOf(r) });

describe('shared response bodies', () => {
  const snap = new SnapshotEncoder().build({ clusters: [cluster('a'), cluster('b')], endpoints: [endpoints('a')], listeners: [], routes: [], secrets: [] });
  const cds = snap.types[CLUSTER];
  const def = adsServiceDefinition();
  const sotwSerialize = def['StreamAggregatedResources']!.responseSerialize as (v: unknown) => Buffer;
  const sotwDeserialize = def['StreamAggregatedResources']!.responseDeserialize as (b: Buffer) => Record<string, unknown>;
  const deltaSerialize = def['DeltaAggregatedResources']!.responseSerialize as (v: unknown) => Buffer;
  const deltaDeserialize = def['DeltaAggregatedResources']!.responseDeserialize as (b: Buffer) => Record<string, unknown>;

  it('gives a SotW response the bytes of encoding the whole message', () => {
    const body = sotwBodyOf(CLUSTER, cds.version, cds.resources);
    const whole = sotwSerialize({ version_info: cds.version, resources: anyListOf(cds.resources), type_url: CLUSTER, nonce: '1-a' });
    expect(Buffer.from(sotwSerialize(new EncodedResponse(body, '1-a')))).toEqual(whole);
    expect(sotwBodyOf(CLUSTER, cds.version, cds.resources)).toBe(body);
  });

  it('writes each nonce in turn into one body, and long nonces apart', () => {
    const body = sotwBodyOf(CLUSTER, cds.version, cds.resources);
    for (const nonce of ['x', 'stream-2-nonce', 'n'.repeat(62), 'ü'.repeat(40), '']) {
      const m = sotwDeserialize(Buffer.from(body.withNonce(nonce)));
      expect(m['nonce'] ?? '').toBe(nonce);
      expect(m['version_info']).toBe(cds.version);
      expect((m['resources'] as unknown[]).length).toBe(2);
    }
  });

  it('shares a delta body among streams that need the same change, with removals', () => {
    const updates = [cds.resources.get('b')!];
    const body = deltaBodyOf(CLUSTER, cds, updates, ['gone']);
    expect(deltaBodyOf(CLUSTER, cds, [cds.resources.get('b')!], ['gone'])).toBe(body);
    expect(deltaBodyOf(CLUSTER, cds, updates, [])).not.toBe(body);
    const m = deltaDeserialize(Buffer.from(deltaSerialize(new EncodedResponse(body, '7-1'))));
    expect(m).toMatchObject({ system_version_info: cds.version, type_url: CLUSTER, removed_resources: ['gone'], nonce: '7-1' });
    expect((m['resources'] as { name: string; version: string }[]).map((r) => [r.name, r.version])).toEqual([['b', deltaResourceOf(updates[0]!).version]]);
    // Everything at once: one body whatever order the names came in.
    const all = deltaBodyOf(CLUSTER, cds, [...cds.resources.values()], []);
    expect(deltaBodyOf(CLUSTER, cds, [...cds.resources.values()].reverse(), [])).toBe(all);
  });

  it('still serializes plain response objects', () => {
    const plain = { version_info: 'v', resources: [], type_url: ENDPOINT, nonce: 'n' };
    expect(sotwDeserialize(sotwSerialize(plain))).toMatchObject({ version_info: 'v', type_url: ENDPOINT, nonce: 'n' });
    expect(Buffer.from(bodyEncoder().sotwBody({ version_info: 'v', resources: [], type_url: ENDPOINT }).withNonce('n'))).toEqual(sotwSerialize(plain));
    expect(Buffer.from(new SharedBody(Buffer.from([0x0a, 0x01, 0x76])).withNonce('n'))).toEqual(Buffer.from([0x0a, 0x01, 0x76, 0x2a, 0x01, 0x6e]));
  });

  it('adopts an encoded body with room for the nonce instead of copying it', () => {
    const withRoom = Buffer.concat([Buffer.from([0x0a, 0x01, 0x76]), Buffer.alloc(64)]);
    const body = new SharedBody(withRoom, true);
    expect(body.length).toBe(3);
    const out = body.withNonce('n');
    expect(Buffer.from(out)).toEqual(Buffer.from([0x0a, 0x01, 0x76, 0x2a, 0x01, 0x6e]));
    expect(out.buffer).toBe(withRoom.buffer); // the same memory: written in place
    expect(Buffer.from(body.withNonce('n'.repeat(62)))).toEqual(Buffer.concat([Buffer.from([0x0a, 0x01, 0x76, 0x2a, 62]), Buffer.from('n'.repeat(62))]));
    expect(() => new SharedBody(Buffer.alloc(10), true)).toThrow(/no room/);
    // The bodies the encoder makes carry their room: a whole RouteConfiguration-sized body is not copied again.
    const big = bodyEncoder().sotwBody({ version_info: 'v', resources: [{ type_url: CLUSTER, value: Buffer.alloc(100_000, 1) }], type_url: CLUSTER });
    const whole = sotwSerialize({ version_info: 'v', resources: [{ type_url: CLUSTER, value: Buffer.alloc(100_000, 1) }], type_url: CLUSTER, nonce: '9-z' });
    const sent = big.withNonce('9-z');
    expect(Buffer.from(sent)).toEqual(whole);
    expect(sent.buffer.byteLength).toBeLessThanOrEqual(big.length + 64 + sent.byteOffset);
  });

  it('writes the bodies protobufjs would: a RouteConfiguration from its virtual hosts’ parts, delta resources, removals, empty versions', () => {
    const vh = (n: number) => ({ name: `h${n}`, domains: [`h${n}.example.com`, 'ü.example.com'], routes: [{ match: { prefix: '/' }, route: { cluster: 'a' } }] });
    const routes = new SnapshotEncoder().build({ clusters: [cluster('a')], endpoints: [], listeners: [], secrets: [], routes: [{ name: 'http', virtual_hosts: Array.from({ length: 300 }, (_, i) => vh(i)) }, { name: 'https/x', virtual_hosts: [vh(1)] }] }).types[ROUTE];
    // Written from the parts first (nothing has read the bytes yet), then compared with protobufjs over the assembled bytes.
    const sotw = Buffer.from(sotwBodyOf(ROUTE, routes.version, routes.resources).withNonce('3-r'));
    expect(sotw).toEqual(sotwSerialize({ version_info: routes.version, resources: anyListOf(routes.resources), type_url: ROUTE, nonce: '3-r' }));
    const updates = [...routes.resources.values()];
    for (const removals of [[], ['gone', 'ü-gone']]) {
      const ours = Buffer.from(deltaBodyOf(ROUTE, routes, updates.slice(0, 1), removals).withNonce(''));
      const theirs = Buffer.from(bodyEncoder().deltaBody({ system_version_info: routes.version, resources: updates.slice(0, 1).map(deltaResourceOf), type_url: ROUTE, removed_resources: removals }).withNonce(''));
      expect(ours).toEqual(theirs);
    }
    const all = Buffer.from(deltaBodyOf(ROUTE, routes, updates, []).withNonce(''));
    expect(all).toEqual(Buffer.from(bodyEncoder().deltaBody({ system_version_info: routes.version, resources: updates.map(deltaResourceOf), type_url: ROUTE, removed_resources: [] }).withNonce('')));
    // An empty version and an empty list are written as protobufjs writes them.
    const empty = new Map();
    expect(Buffer.from(sotwBodyOf(CLUSTER, '', empty).withNonce('n'))).toEqual(sotwSerialize({ version_info: '', resources: [], type_url: CLUSTER, nonce: 'n' }));
  });

  it('selects the same named subset once per map and name list', () => {
    const s1 = selectionOf(cds.resources, ['a', 'zz'], 'a\u0000zz');
    expect(selectionOf(cds.resources, ['a', 'zz'], 'a\u0000zz')).toBe(s1);
    expect([...s1.resources.keys()]).toEqual(['a']);
  });
});

describe('one body, many streams in the same tick', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('SotW: every stream gets its own nonce and only its own ACK counts', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const streams: SotwStream[] = [];
    for (let i = 0; i < 20; i++) {
      const s = h.client().sotw();
      s.send({ node: { ...ENVOY_NODE, id: `envoy-${i}` }, type_url: CLUSTER, resource_names: [] });
      streams.push(s);
    }
    const first = await Promise.all(streams.map((s) => s.next()));
    for (const s of streams) s.send(ack(first[streams.indexOf(s)]!));
    await until(() => h.recorder.of('acked').length === 20);
    // One publish: every stream is flushed in the same turn of the event loop.
    const snap = h.publish({ clusters: [cluster('c1'), cluster('c2')] });
    const second = await Promise.all(streams.map((s) => s.next()));
    const nonces = new Set(second.map((r) => r.nonce));
    expect(nonces.size).toBe(20);
    for (const r of second) {
      expect(r.version_info).toBe(snap.types[CLUSTER].version);
      expect(resourceNames(r)).toEqual(['c1', 'c2']);
    }
    const sent = h.recorder.of('sent').slice(-20);
    expect(new Set(sent.map((e) => e.nonce))).toEqual(nonces);
    // Each stream's nonce is the one recorded for it.
    for (const e of sent) expect(second.map((r) => r.nonce)).toContain(e.nonce);
    // Stream 0 ACKs with stream 1's nonce: nothing; with its own: ACKed.
    streams[0]!.send(ack(second[1]!));
    await new Promise((r) => setTimeout(r, 200));
    expect(h.recorder.of('acked').length).toBe(20);
    streams.forEach((s, i) => s.send(ack(second[i]!)));
    await until(() => h.recorder.of('acked').length === 40);
  });

  it('delta: every stream gets its own nonce for the same change', T, async () => {
    h.publish({ clusters: [cluster('c1')] });
    const streams: DeltaStream[] = [];
    for (let i = 0; i < 20; i++) {
      const s = h.client().delta();
      s.send({ node: { ...ENVOY_NODE, id: `envoy-${i}` }, type_url: CLUSTER });
      streams.push(s);
    }
    const first = await Promise.all(streams.map((s) => s.next()));
    streams.forEach((s, i) => s.send(deltaAck(first[i]!)));
    await until(() => h.recorder.of('acked').length === 20);
    h.publish({ clusters: [cluster('c2')] });
    const second = await Promise.all(streams.map((s) => s.next()));
    expect(new Set(second.map((r) => r.nonce)).size).toBe(20);
    for (const r of second) {
      expect(deltaNames(r)).toEqual(['c2']);
      expect(r.removed_resources).toEqual(['c1']);
    }
    streams.forEach((s, i) => s.send(deltaAck(second[i]!)));
    await until(() => h.recorder.of('acked').length === 40);
  });
});
