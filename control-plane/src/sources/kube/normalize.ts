// client-node hands out two shapes: list items are its model classes (camelCase, with
// Date objects for timestamps), watch events are the raw JSON. Both become the plain
// API shapes of k8s-types.ts: timestamps back to RFC 3339 strings, no undefined fields,
// kind and apiVersion set (the API leaves them off list items), managedFields dropped,
// keys in sorted order (model classes and raw JSON order them differently; one object
// must look the same whichever way it arrived). Secret data stays base64, as the API
// returns it.
import type { WatchedKind, WatchedObject } from '../k8s-types.js';

/** RFC 3339 as the API writes metav1.Time: whole seconds unless the Date has milliseconds. */
export function formatTime(d: Date): string {
  const iso = d.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** A deep copy made of plain objects (keys sorted), arrays, strings, numbers and booleans. */
export function toPlain(value: unknown, depth = 0): unknown {
  if (depth > 64) throw new Error('object nested too deeply');
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : formatTime(value);
  if (Array.isArray(value)) return value.map((v) => toPlain(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (v === undefined || typeof v === 'function') continue;
    const p = toPlain(v, depth + 1);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

export function normalizeObject(raw: unknown, kind: WatchedKind, apiVersion: string): WatchedObject {
  const plain = toPlain(raw) as Record<string, unknown>;
  const metadata = { ...((plain['metadata'] as Record<string, unknown> | undefined) ?? {}) };
  delete metadata['managedFields'];
  return toPlain({ ...plain, apiVersion, kind, metadata }) as WatchedObject;
}

/**
 * The few fields of a Pod the readiness gate reads (name, namespace, uid,
 * resourceVersion, deletionTimestamp, readinessGates, IPs, conditions): pods are many
 * and change often, so the rest never stays in memory.
 */
export function trimPod(pod: WatchedObject): WatchedObject {
  if (pod.kind !== 'Pod') return pod;
  const m = pod.metadata as WatchedObject['metadata'] & { deletionTimestamp?: string };
  const spec = pod.spec ?? {};
  const st = pod.status ?? {};
  return toPlain({
    apiVersion: pod.apiVersion,
    kind: 'Pod',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp, deletionTimestamp: m.deletionTimestamp },
    spec: { readinessGates: spec.readinessGates },
    status: { podIP: st.podIP, podIPs: st.podIPs, conditions: st.conditions },
  }) as WatchedObject;
}
