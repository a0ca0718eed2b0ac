// client-node's model classes (Dates, class instances) → the plain API shapes; backoff.
import type { V1Ingress } from '@kubernetes/client-node';
// What the generated list calls use to turn JSON into model classes.
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../control-plane/src/sources/kube/backoff.js';
import { formatTime, normalizeObject, toPlain } from '../../control-plane/src/sources/kube/normalize.js';

describe('normalize', () => {
  it('turns a deserialised list item back into the API JSON', () => {
    const wire = {
      metadata: { name: 'shop', namespace: 'default', resourceVersion: '42', creationTimestamp: '2024-05-01T10:20:30Z', managedFields: [{ manager: 'kubectl', time: '2024-05-01T10:20:30Z' }], annotations: { a: 'b' } },
      spec: { ingressClassName: 'xgate', rules: [{ host: 'shop.example.com' }] },
      status: { loadBalancer: {} },
    };
    const model = ObjectSerializer.deserialize(wire, 'V1Ingress', '') as V1Ingress;
    expect(model.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const plain = normalizeObject(model, 'Ingress', 'networking.k8s.io/v1');
    expect(plain).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'shop', namespace: 'default', resourceVersion: '42', creationTimestamp: '2024-05-01T10:20:30Z', annotations: { a: 'b' } },
      spec: { ingressClassName: 'xgate', rules: [{ host: 'shop.example.com' }] },
      status: { loadBalancer: {} },
    });
    // The raw JSON of a watch event gives the same result, down to the key order (the
    // model classes order keys by their attribute maps, the wire by the server).
    const fromWatch = normalizeObject(JSON.parse(JSON.stringify(wire)), 'Ingress', 'networking.k8s.io/v1');
    expect(fromWatch).toEqual(plain);
    expect(JSON.stringify(fromWatch)).toBe(JSON.stringify(plain));
    const reordered = { status: wire.status, spec: { rules: [{ host: 'shop.example.com' }], ingressClassName: 'xgate' }, metadata: wire.metadata };
    expect(JSON.stringify(normalizeObject(reordered, 'Ingress', 'networking.k8s.io/v1'))).toBe(JSON.stringify(plain));
  });

  it('formats times as the API does and drops undefined', () => {
    expect(formatTime(new Date('2024-05-01T10:20:30Z'))).toBe('2024-05-01T10:20:30Z');
    expect(formatTime(new Date('2024-05-01T10:20:30.5Z'))).toBe('2024-05-01T10:20:30.500Z');
    expect(toPlain({ a: undefined, b: [new Date(0)], c: null })).toEqual({ b: ['1970-01-01T00:00:00Z'], c: null });
  });
});

describe('backoff', () => {
  it('grows exponentially to a cap, with jitter, and resets', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 1);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([150, 300, 600, 1000, 1000]);
    b.reset();
    const c = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5 }, () => 0);
    expect(c.next()).toBe(100);
  });
});
