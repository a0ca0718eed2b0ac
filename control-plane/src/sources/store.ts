// The store: the current set of watched objects, fed by a source (manifest folder or
// Kubernetes informers). The model reads immutable snapshots of it.
import type { ExternalDocument } from './external.js';
import { OverlayMap } from './overlay-map.js';
import type { WatchedKind, WatchedObject, Ingress, IngressClass, Service, EndpointSlice, Secret, Pod } from './k8s-types.js';

export interface StoreSnapshot {
  readonly ingresses: ReadonlyMap<string, Ingress>;
  readonly ingressClasses: ReadonlyMap<string, IngressClass>;
  readonly services: ReadonlyMap<string, Service>;
  readonly endpointSlices: ReadonlyMap<string, EndpointSlice>;
  readonly secrets: ReadonlyMap<string, Secret>;
  readonly pods: ReadonlyMap<string, Pod>;
  /** Documents fetched by the control plane, by URL (see external.ts); absent when none. */
  readonly external?: ReadonlyMap<string, ExternalDocument>;
  /** This snapshot's number (unique in the process); absent for snapshots not made by a Store. */
  readonly seq?: number;
  /**
   * Keys of the Ingresses added, changed or removed between snapshot `seq` of the same
   * Store and this one; undefined when not known (another store, too old, or a relist).
   * Lets the model find what changed without comparing every Ingress.
   */
  readonly ingressChangesSince?: (seq: number) => ReadonlySet<string> | undefined;
  /**
   * What changed between snapshot `seq` of the same Store and this one, per map: the keys
   * added, changed or removed, or 'all' when not known (a relist); a map not listed did
   * not change. Undefined when `seq` is too old or from another store. Lets the model
   * redo only the work that read a changed Service, EndpointSlice or Secret.
   */
  readonly changesSince?: (seq: number) => StoreChanges | undefined;
}

/** The maps of a snapshot that changes are told for. */
export type ChangeField = 'ingresses' | 'ingressClasses' | 'services' | 'endpointSlices' | 'secrets' | 'pods' | 'external';

/** Per map: the keys that changed, or 'all' when not known. */
export type StoreChanges = Partial<Readonly<Record<ChangeField, ReadonlySet<string> | 'all'>>>;

/** Snapshot numbers, unique across stores. */
let nextSeq = 1;
/** How many snapshots back a Store can tell what changed. */
const CHANGE_LOG = 16;

/** Key of an object within its kind: `namespace/name`, or `name` for cluster-scoped kinds. */
export function objectKey(obj: { metadata: { namespace?: string; name: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

const FIELD: Record<WatchedKind, ChangeField> = {
  Ingress: 'ingresses',
  IngressClass: 'ingressClasses',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Secret: 'secrets',
  Pod: 'pods',
};

/** The kinds of objects that changed; `external` when a fetched document changed (see external.ts). */
export type StoreListener = (changedKinds: ReadonlySet<WatchedKind>, external?: boolean) => void;

export class Store {
  private readonly maps: Record<WatchedKind, Map<string, WatchedObject>> = {
    Ingress: new Map(),
    IngressClass: new Map(),
    Service: new Map(),
    EndpointSlice: new Map(),
    Secret: new Map(),
    Pod: new Map(),
  };
  private readonly listeners = new Set<StoreListener>();
  private readonly external = new Map<string, ExternalDocument>();
  private externalCopy: ReadonlyMap<string, ExternalDocument> | undefined;
  private cached: StoreSnapshot | undefined;
  /** The immutable view of each kind's map in the last snapshot, until that kind changes. */
  private readonly copies = new Map<WatchedKind, ReadonlyMap<string, WatchedObject>>();
  /** Per kind: a full copy never mutated, and the edits made since it (null: removed). */
  private readonly frozen = new Map<WatchedKind, { readonly base: ReadonlyMap<string, WatchedObject>; readonly edits: Map<string, WatchedObject | null> }>();
  /** Keys changed since the last snapshot, per map ('all' after a relist); undefined before the first snapshot (all unknown). */
  private pending: Map<ChangeField, Set<string> | 'all'> | undefined;
  /** Per recent snapshot: its number and the keys changed since the one before. */
  private readonly log: LogEntry[] = [];

  onChange(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  upsert(obj: WatchedObject): void {
    const map = this.maps[obj.kind];
    const key = objectKey(obj);
    const prev = map.get(key);
    if (prev && sameObject(prev, obj)) return;
    map.set(key, obj);
    this.frozen.get(obj.kind)?.edits.set(key, obj);
    this.note(FIELD[obj.kind], key);
    this.changed(new Set([obj.kind]));
  }

  remove(kind: WatchedKind, key: string): void {
    if (this.maps[kind].delete(key)) {
      this.frozen.get(kind)?.edits.set(key, null);
      this.note(FIELD[kind], key);
      this.changed(new Set([kind]));
    }
  }

  /** Records a changed key (or a whole map: key undefined) for the next snapshot's change log. */
  private note(field: ChangeField, key: string | undefined): void {
    const p = this.pending;
    if (!p) return;
    const keys = p.get(field);
    if (keys === 'all') return;
    if (key === undefined) p.set(field, 'all');
    else if (keys) keys.add(key);
    else p.set(field, new Set([key]));
  }

  /** Replaces everything of the given kinds (a relist, or a re-read of the manifest folder). */
  replace(objects: readonly WatchedObject[], kinds: readonly WatchedKind[]): void {
    const changed = new Set<WatchedKind>();
    const next = new Map<WatchedKind, Map<string, WatchedObject>>();
    for (const k of kinds) next.set(k, new Map());
    for (const o of objects) next.get(o.kind)?.set(objectKey(o), o);
    for (const [kind, fresh] of next) {
      const old = this.maps[kind];
      if (old.size !== fresh.size) changed.add(kind);
      else {
        for (const [key, o] of fresh) {
          const prev = old.get(key);
          if (!prev || !sameObject(prev, o)) {
            changed.add(kind);
            break;
          }
        }
      }
      if (changed.has(kind)) {
        this.maps[kind] = fresh;
        this.frozen.delete(kind);
        this.note(FIELD[kind], undefined);
      }
    }
    if (changed.size) this.changed(changed);
  }

  /** Sets a fetched document (a change rebuilds the model). */
  setExternal(doc: ExternalDocument): void {
    const prev = this.external.get(doc.url);
    if (prev && JSON.stringify(prev) === JSON.stringify(doc)) return;
    this.external.set(doc.url, doc);
    this.note('external', doc.url);
    this.externalChanged();
  }

  deleteExternal(url: string): void {
    if (this.external.delete(url)) {
      this.note('external', url);
      this.externalChanged();
    }
  }

  private externalChanged(): void {
    this.externalCopy = undefined;
    this.cached = undefined;
    for (const l of this.listeners) l(new Set(), true);
  }

  snapshot(): StoreSnapshot {
    if (!this.cached) {
      const s: Record<string, ReadonlyMap<string, unknown>> = {};
      for (const kind of Object.keys(this.maps) as WatchedKind[]) {
        // Only the kinds changed since the last snapshot get a new view: the others keep theirs.
        let copy = this.copies.get(kind);
        if (!copy) {
          copy = this.view(kind);
          this.copies.set(kind, copy);
        }
        s[FIELD[kind]] = copy;
      }
      if (this.external.size) s['external'] = this.externalCopy ??= new Map(this.external);
      const seq = nextSeq++;
      this.log.push({ seq, changes: this.pending });
      if (this.log.length > CHANGE_LOG) this.log.shift();
      this.pending = new Map();
      const log = this.log;
      const meta = s as unknown as Pick<StoreSnapshot, 'seq' | 'ingressChangesSince' | 'changesSince'>;
      (meta as { seq: number }).seq = seq;
      (meta as { changesSince: StoreSnapshot['changesSince'] }).changesSince = (from) => changesBetween(log, from, seq);
      (meta as { ingressChangesSince: StoreSnapshot['ingressChangesSince'] }).ingressChangesSince = (from) => {
        const c = changesBetween(log, from, seq);
        if (!c) return undefined;
        const keys = c.ingresses;
        return keys === 'all' ? undefined : (keys ?? NO_KEYS);
      };
      this.cached = s as unknown as StoreSnapshot;
    }
    return this.cached;
  }

  /** A kind's map as of now: its frozen copy plus the edits since, or a new frozen copy when the edits have grown. */
  private view(kind: WatchedKind): ReadonlyMap<string, WatchedObject> {
    const f = this.frozen.get(kind);
    const live = this.maps[kind];
    if (!f || f.edits.size > Math.max(64, f.base.size >> 5)) {
      const base = new Map(live);
      this.frozen.set(kind, { base, edits: new Map() });
      return base;
    }
    if (!f.edits.size) return f.base;
    return new OverlayMap(f.base, new Map(f.edits), live.size);
  }

  private changed(kinds: Set<WatchedKind>): void {
    this.cached = undefined;
    for (const k of kinds) this.copies.delete(k);
    for (const l of this.listeners) l(kinds);
  }
}

/** One snapshot's entry in the change log: the keys changed since the snapshot before (undefined: the first, all unknown). */
interface LogEntry {
  readonly seq: number;
  readonly changes: ReadonlyMap<ChangeField, ReadonlySet<string> | 'all'> | undefined;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** The keys changed after snapshot `from` up to snapshot `to`, when the log still covers them. */
function changesBetween(log: readonly LogEntry[], from: number, to: number): StoreChanges | undefined {
  const start = log.findIndex((e) => e.seq === from);
  if (start < 0) return undefined;
  const out: Partial<Record<ChangeField, Set<string> | 'all'>> = {};
  for (let i = start + 1; i < log.length && log[i]!.seq <= to; i++) {
    const changes = log[i]!.changes;
    if (!changes) return undefined;
    for (const [field, keys] of changes) {
      const acc = out[field];
      if (acc === 'all') continue;
      if (keys === 'all') out[field] = 'all';
      else if (acc) for (const k of keys) acc.add(k);
      else out[field] = new Set(keys);
    }
  }
  return out;
}

function sameObject(a: WatchedObject, b: WatchedObject): boolean {
  const ra = a.metadata.resourceVersion;
  const rb = b.metadata.resourceVersion;
  if (ra && rb) return ra === rb;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Builds a snapshot straight from a list of objects (for translate/validate and tests). */
export function snapshotOf(objects: readonly WatchedObject[]): StoreSnapshot {
  const store = new Store();
  store.replace(objects, ['Ingress', 'IngressClass', 'Service', 'EndpointSlice', 'Secret', 'Pod']);
  return store.snapshot();
}

/**
 * Two snapshots around `snap` that tell their changes as a Store would: `snap` with
 * `extras` added, then `snap` again (its maps and its number, so the Store's next
 * snapshot tells its changes since `snap` as before). The controller runs the pipeline
 * over them to warm it up after a long build (Controller.warmUp). Undefined for a
 * snapshot not made by a Store, or when an extra's key is taken.
 */
export function aroundSnapshot(snap: StoreSnapshot, extras: readonly WatchedObject[]): readonly [StoreSnapshot, StoreSnapshot] | undefined {
  const from = snap.seq;
  if (from === undefined || !snap.changesSince || !snap.ingressChangesSince) return undefined;
  const maps = new Map<ChangeField, Map<string, WatchedObject>>();
  const keys = new Map<ChangeField, Set<string>>();
  for (const obj of extras) {
    const field = FIELD[obj.kind];
    const key = objectKey(obj);
    const had = snap[field as Exclude<ChangeField, 'external'>] as ReadonlyMap<string, WatchedObject>;
    if (had.has(key)) return undefined;
    let m = maps.get(field);
    if (!m) maps.set(field, (m = new Map(had)));
    m.set(key, obj);
    let k = keys.get(field);
    if (!k) keys.set(field, (k = new Set()));
    k.add(key);
  }
  const changes: StoreChanges = Object.fromEntries(keys);
  const ingressKeys: ReadonlySet<string> = keys.get('ingresses') ?? NO_KEYS;
  const seq = nextSeq++;
  const added = {
    ...snap,
    ...Object.fromEntries(maps),
    seq,
    changesSince: (s: number) => (s === from ? changes : undefined),
    ingressChangesSince: (s: number) => (s === from ? ingressKeys : undefined),
  } as StoreSnapshot;
  const back: StoreSnapshot = {
    ...snap,
    changesSince: (s) => (s === seq ? changes : snap.changesSince!(s)),
    ingressChangesSince: (s) => (s === seq ? ingressKeys : snap.ingressChangesSince!(s)),
  };
  return [added, back];
}
