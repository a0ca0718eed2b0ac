// The stand-in's object storage: one global resourceVersion counter (like etcd's
// revision), the current objects per resource type, and a bounded history of changes
// that watches resume from. History older than the compaction point is gone: a watch
// from there gets 410 Expired.
import { randomBytes, randomUUID } from 'node:crypto';
import { apiVersionOf, type ResourceType } from './resources.js';
import { alreadyExists, badRequest, conflict, invalid, notFound } from './status.js';

export type Obj = Record<string, any>;

export interface Change {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly res: ResourceType;
  readonly obj: Obj;
  /** The object before a MODIFIED change (to turn selector transitions into ADDED/DELETED). */
  readonly prev?: Obj;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function rfc3339(d = new Date()): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const key = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

function sameContent(a: Obj, b: Obj): boolean {
  const strip = (o: Obj) => ({ ...o, metadata: { ...o['metadata'], resourceVersion: undefined } });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function specOf(o: Obj): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

export type WriteMode = 'main' | 'status' | 'all';

export class Storage {
  private rv: number;
  private readonly objects = new Map<ResourceType, Map<string, Obj>>();
  private history: Change[] = [];
  private compacted: number;
  private readonly listeners = new Set<(c: Change) => void>();

  constructor(
    private readonly maxHistory: number,
    startRv = 1000,
  ) {
    this.rv = startRv;
    this.compacted = startRv;
  }

  currentRv(): number {
    return this.rv;
  }

  /** Watches may resume from any resourceVersion at or after this one. */
  compactedRv(): number {
    return this.compacted;
  }

  onChange(fn: (c: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Forgets every change so far: a watch from an older resourceVersion gets 410. */
  compact(): void {
    this.history = [];
    this.compacted = this.rv;
  }

  /** Changes after `rv`, or undefined when they are no longer retained. */
  changesSince(rv: number): readonly Change[] | undefined {
    if (rv < this.compacted) return undefined;
    return this.history.filter((c) => c.rv > rv);
  }

  get(res: ResourceType, ns: string | undefined, name: string): Obj | undefined {
    const o = this.objects.get(res)?.get(key(ns, name));
    return o ? structuredClone(o) : undefined;
  }

  list(res: ResourceType, ns?: string): Obj[] {
    const all = [...(this.objects.get(res)?.values() ?? [])].filter((o) => ns === undefined || o['metadata']['namespace'] === ns);
    return all.sort((a, b) => (key(a['metadata']['namespace'], a['metadata']['name']) < key(b['metadata']['namespace'], b['metadata']['name']) ? -1 : 1)).map((o) => structuredClone(o));
  }

  create(res: ResourceType, ns: string | undefined, body: Obj, opts: { keepStatus?: boolean } = {}): Obj {
    const obj = structuredClone(body);
    obj['apiVersion'] = apiVersionOf(res);
    obj['kind'] = res.kind;
    const meta: Obj = (obj['metadata'] ??= {});
    if (!meta['name'] && typeof meta['generateName'] === 'string') meta['name'] = `${meta['generateName']}${randomBytes(4).toString('hex').slice(0, 5)}`;
    const name = meta['name'];
    if (typeof name !== 'string' || !NAME.test(name) || name.length > 253) throw invalid(res, String(name), 'metadata.name: a lowercase RFC 1123 subdomain is required');
    if (res.namespaced) {
      if (meta['namespace'] !== undefined && ns !== undefined && meta['namespace'] !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta['namespace'] = ns ?? meta['namespace'];
      if (typeof meta['namespace'] !== 'string' || !meta['namespace']) throw badRequest('a namespace is required');
    } else delete meta['namespace'];
    const map = this.objects.get(res) ?? new Map<string, Obj>();
    this.objects.set(res, map);
    if (map.has(key(meta['namespace'], name))) throw alreadyExists(res, name);
    if (res.status && !opts.keepStatus) delete obj['status'];
    meta['uid'] = randomUUID();
    meta['creationTimestamp'] = rfc3339();
    meta['resourceVersion'] = String(++this.rv);
    if (res.status) meta['generation'] = 1;
    map.set(key(meta['namespace'], name), obj);
    this.record({ rv: this.rv, type: 'ADDED', res, obj: structuredClone(obj) });
    return structuredClone(obj);
  }

  /**
   * Replaces an object. `main`: the object without its status (when the kind has a
   * status subresource); `status`: only the status; `all`: everything (test control).
   * A resourceVersion in the body must be the current one (optimistic concurrency).
   */
  update(res: ResourceType, ns: string | undefined, name: string, body: Obj, mode: WriteMode): Obj {
    const map = this.objects.get(res);
    const cur = map?.get(key(ns, name));
    if (!map || !cur) throw notFound(res, name);
    const bodyMeta: Obj = body['metadata'] ?? {};
    if (bodyMeta['name'] !== undefined && bodyMeta['name'] !== name) throw badRequest('the name of the object does not match the name on the URL');
    const rv = bodyMeta['resourceVersion'];
    if (rv !== undefined && rv !== '' && rv !== cur['metadata']['resourceVersion']) throw conflict(res, name);
    let next: Obj;
    if (mode === 'status') next = { ...structuredClone(cur), status: structuredClone(body['status']) };
    else {
      next = structuredClone(body);
      next['apiVersion'] = apiVersionOf(res);
      next['kind'] = res.kind;
      if (mode === 'main' && res.status) {
        if (cur['status'] !== undefined) next['status'] = structuredClone(cur['status']);
        else delete next['status'];
      }
      const m: Obj = (next['metadata'] ??= {});
      for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation'] as const) {
        if (cur['metadata'][k] !== undefined) m[k] = cur['metadata'][k];
        else delete m[k];
      }
      if (res.status && mode !== 'all' && specOf(next) !== specOf(cur)) m['generation'] = (Number(cur['metadata']['generation']) || 0) + 1;
    }
    if (next['status'] === undefined) delete next['status'];
    next['metadata']['resourceVersion'] = cur['metadata']['resourceVersion'];
    if (sameContent(next, cur)) return structuredClone(cur);
    next['metadata']['resourceVersion'] = String(++this.rv);
    map.set(key(ns, name), next);
    this.record({ rv: this.rv, type: 'MODIFIED', res, obj: structuredClone(next), prev: structuredClone(cur) });
    return structuredClone(next);
  }

  delete(res: ResourceType, ns: string | undefined, name: string): Obj {
    const map = this.objects.get(res);
    const cur = map?.get(key(ns, name));
    if (!map || !cur) throw notFound(res, name);
    map.delete(key(ns, name));
    const gone = structuredClone(cur);
    gone['metadata']['resourceVersion'] = String(++this.rv);
    this.record({ rv: this.rv, type: 'DELETED', res, obj: gone });
    return structuredClone(gone);
  }

  private record(c: Change): void {
    this.history.push(c);
    while (this.history.length > this.maxHistory) this.compacted = this.history.shift()!.rv;
    for (const l of this.listeners) l(c);
  }
}
