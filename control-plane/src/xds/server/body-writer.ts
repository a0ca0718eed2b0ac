// The two response bodies the server shares among streams (encoded.ts), written straight
// from the Resources: a SotW DiscoveryResponse (version_info = 1, resources = 2 as Any,
// type_url = 4) and a DeltaDiscoveryResponse (system_version_info = 1, resources = 2 as
// Resource {version = 1, resource = 2, name = 3}, type_url = 4, removed_resources = 6),
// each followed by the room for its nonce (NONCE_ROOM_FIELD). The bytes are those
// protobufjs writes for the same message (fields in number order, a given string written
// even when empty, an empty list not written; test/protocol/shared-responses.test.ts
// compares), without its per-message objects and copies: the size is summed first, one
// buffer is allocated, and each resource's bytes are copied into it once. A Resource that
// can write itself (a RouteConfiguration put together from its virtual hosts' bytes)
// does, so its bytes are never assembled apart.
import type { Resource } from '../cache/types.js';
import { NONCE_ROOM_FIELD, SharedBody } from './encoded.js';

/** The SotW body carrying `resources` at `version`. */
export function sotwBody(typeUrl: string, version: string, resources: Iterable<Resource>): SharedBody {
  const list = Array.isArray(resources) ? (resources as readonly Resource[]) : [...resources];
  let size = stringField(Buffer.byteLength(version)) + stringField(Buffer.byteLength(typeUrl));
  const sizes = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) {
    sizes[i] = anySize(list[i]!);
    size += 1 + varintSize(sizes[i]!) + sizes[i]!;
  }
  const w = new Out(size + ROOM);
  w.string(1, version);
  for (let i = 0; i < list.length; i++) {
    w.tagLength(2, sizes[i]!);
    w.any(list[i]!);
  }
  w.string(4, typeUrl);
  return w.done();
}

/** The delta body bringing `updates` (at `systemVersion`) and removing `removals`. */
export function deltaBody(typeUrl: string, systemVersion: string, updates: readonly Resource[], removals: readonly string[]): SharedBody {
  let size = stringField(Buffer.byteLength(systemVersion)) + stringField(Buffer.byteLength(typeUrl));
  const sizes = new Array<number>(updates.length);
  const anySizes = new Array<number>(updates.length);
  for (let i = 0; i < updates.length; i++) {
    const r = updates[i]!;
    anySizes[i] = anySize(r);
    sizes[i] = stringField(Buffer.byteLength(r.version)) + 1 + varintSize(anySizes[i]!) + anySizes[i]! + stringField(Buffer.byteLength(r.name));
    size += 1 + varintSize(sizes[i]!) + sizes[i]!;
  }
  for (const n of removals) size += stringField(Buffer.byteLength(n));
  const w = new Out(size + ROOM);
  w.string(1, systemVersion);
  for (let i = 0; i < updates.length; i++) {
    const r = updates[i]!;
    w.tagLength(2, sizes[i]!);
    w.string(1, r.version);
    w.tagLength(2, anySizes[i]!);
    w.any(r);
    w.string(3, r.name);
  }
  w.string(4, typeUrl);
  for (const n of removals) w.string(6, n);
  return w.done();
}

/** A Resource that writes its bytes itself (cache/snapshot.ts: a RouteConfiguration from its parts). */
export interface SelfWriting {
  readonly byteLength: number;
  /** Writes the bytes at `at`; returns where they end. */
  writeTo(buf: Uint8Array, at: number): number;
}

function selfWriting(r: Resource): SelfWriting | undefined {
  const s = r as Partial<SelfWriting>;
  return typeof s.writeTo === 'function' && typeof s.byteLength === 'number' ? (s as SelfWriting) : undefined;
}

/** The Any of a resource: type_url = 1, value = 2. */
function anySize(r: Resource): number {
  const n = selfWriting(r)?.byteLength ?? r.bytes.length;
  return stringField(Buffer.byteLength(r.typeUrl)) + 1 + varintSize(n) + n;
}

const ROOM = 2 + NONCE_ROOM_FIELD.bytes.length;

/** Tag (fields below 16: one byte), length, bytes. */
function stringField(n: number): number {
  return 1 + varintSize(n) + n;
}

function varintSize(x: number): number {
  let n = 1;
  while (x > 127) {
    x >>>= 7;
    n++;
  }
  return n;
}

class Out {
  private readonly buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private varint(x: number): void {
    while (x > 127) {
      this.buf[this.pos++] = (x & 127) | 128;
      x >>>= 7;
    }
    this.buf[this.pos++] = x;
  }

  tagLength(field: number, n: number): void {
    this.buf[this.pos++] = (field << 3) | 2;
    this.varint(n);
  }

  string(field: number, s: string): void {
    this.tagLength(field, Buffer.byteLength(s));
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  any(r: Resource): void {
    this.string(1, r.typeUrl);
    const self = selfWriting(r);
    if (self) {
      this.tagLength(2, self.byteLength);
      this.pos = self.writeTo(this.buf, this.pos);
    } else {
      const b = r.bytes;
      this.tagLength(2, b.length);
      this.buf.set(b, this.pos);
      this.pos += b.length;
    }
  }

  done(): SharedBody {
    this.buf[this.pos++] = NONCE_ROOM_FIELD.tag;
    this.buf[this.pos++] = NONCE_ROOM_FIELD.bytes.length;
    this.buf.fill(0, this.pos, this.pos + NONCE_ROOM_FIELD.bytes.length);
    this.pos += NONCE_ROOM_FIELD.bytes.length;
    if (this.pos !== this.buf.length) throw new Error(`response body: wrote ${this.pos} bytes of ${this.buf.length}`);
    return new SharedBody(this.buf, true);
  }
}
