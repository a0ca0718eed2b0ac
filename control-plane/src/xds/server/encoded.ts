// Responses encoded once and shared by every stream that gets the same content. A body
// holds every field of a DiscoveryResponse or DeltaDiscoveryResponse but the nonce,
// protobuf-encoded once; each stream's own nonce (field 5 in both messages) is appended
// when grpc-js serializes the response for that stream. Protobuf parsers take fields in
// any order; a SotW body ends with type_url (4), so its bytes are exactly what encoding
// the whole message gives (a delta body with removed_resources (6) puts the nonce last).
//
// The body's buffer keeps room after the fields for the nonce: serialization writes it
// there and returns a view, which grpc-js copies at once into the message it frames
// (server-interceptors serializeMessage: allocate length + 5, copy). So a stream costs
// that one copy, and no encoding or allocation of its own. The encoder writes the room
// itself (a placeholder field after the others), so the body adopts the encoder's buffer
// instead of copying it: a 15.5 MB route configuration is copied once less per change.
import type { DeltaDiscoveryResponse, DiscoveryResponse } from './messages.js';

/** Room for the nonce field: tag, length and up to 62 bytes of nonce. */
const NONCE_ROOM = 64;
const NONCE_TAG = (5 << 3) | 2;

export type Serialize = (value: unknown) => Buffer;

export class SharedBody {
  private readonly buf: Buffer;
  /** Bytes of the message without the nonce. */
  readonly length: number;

  /** `fields`: the encoded message without its nonce (copied). */
  constructor(fields: Uint8Array);
  /** `withRoom`: the encoded message followed by NONCE_ROOM bytes of room (adopted, not copied). */
  constructor(withRoom: Buffer, adopt: true);
  constructor(bytes: Uint8Array, adopt?: true) {
    if (adopt) {
      if (bytes.length < NONCE_ROOM) throw new Error('SharedBody: no room for the nonce');
      this.buf = bytes as Buffer;
      this.length = bytes.length - NONCE_ROOM;
    } else {
      this.buf = Buffer.allocUnsafe(bytes.length + NONCE_ROOM);
      this.buf.set(bytes, 0);
      this.length = bytes.length;
    }
  }

  /**
   * The whole message with this nonce. The view is only valid until the next call on this
   * body (grpc-js copies it before that); a nonce too long for the room gets its own buffer.
   */
  withNonce(nonce: string): Buffer {
    if (nonce === '') return this.buf.subarray(0, this.length);
    const n = Buffer.byteLength(nonce);
    if (n > NONCE_ROOM - 2) {
      const out = Buffer.allocUnsafe(this.length + 1 + varintLength(n) + n);
      this.buf.copy(out, 0, 0, this.length);
      writeNonce(out, this.length, nonce, n);
      return out;
    }
    return this.buf.subarray(0, writeNonce(this.buf, this.length, nonce, n));
  }
}

/** What a stream writes: a shared body and its own nonce. */
export class EncodedResponse {
  constructor(
    readonly body: SharedBody,
    readonly nonce: string,
  ) {}
}

/** Wraps a method's response serializer: EncodedResponses pass through, anything else is encoded as before. */
export function passEncoded(serialize: Serialize): Serialize {
  return (value) => (value instanceof EncodedResponse ? value.body.withNonce(value.nonce) : serialize(value));
}

/**
 * Encodes response bodies with the ADS methods' own encoders (protobufjs), each followed by
 * NONCE_ROOM bytes of room (withNonceRoom). The server writes its bodies with body-writer.ts;
 * this is the reference it is tested against (test/protocol/shared-responses.test.ts).
 */
export class BodyEncoder {
  constructor(
    private readonly sotw: Serialize,
    private readonly delta: Serialize,
  ) {}

  sotwBody(res: Omit<DiscoveryResponse, 'nonce'>): SharedBody {
    return new SharedBody(this.sotw(res), true);
  }

  deltaBody(res: Omit<DeltaDiscoveryResponse, 'nonce'>): SharedBody {
    return new SharedBody(this.delta(res), true);
  }
}

/** What withNonceRoom writes after a message: a nonce field (tag, length 62, 62 zero bytes), overwritten by withNonce. */
export const NONCE_ROOM_FIELD = { tag: NONCE_TAG, bytes: new Uint8Array(NONCE_ROOM - 2) } as const;

function writeNonce(buf: Buffer, at: number, nonce: string, n: number): number {
  buf[at++] = NONCE_TAG;
  let len = n;
  while (len > 0x7f) {
    buf[at++] = (len & 0x7f) | 0x80;
    len >>>= 7;
  }
  buf[at++] = len;
  return at + buf.write(nonce, at, 'utf8');
}

function varintLength(n: number): number {
  let l = 1;
  while (n > 0x7f) {
    n >>>= 7;
    l++;
  }
  return l;
}
