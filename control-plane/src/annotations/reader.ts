// Reads annotation values for one object: prefix order, conflict warnings, and a
// record of every key read so that the rest can be reported as unknown.
import type { DiagnosticSink, ObjectRef } from '../diagnostics.js';
import { PREFIXES, READ_ORDER, splitKey, type Prefix } from './prefixes.js';

export interface AnnotationValue {
  readonly value: string;
  /** The full annotation key the value came from, e.g. `nginx.ingress.kubernetes.io/canary`. */
  readonly annotation: string;
}

interface Indexed {
  readonly prefix: Prefix;
  readonly annotation: string;
  readonly value: unknown;
}

export class AnnotationReader {
  private readonly read = new Set<string>();
  /** While logging (startLog): every annotation get() reads, repeats included. */
  private log: string[] | undefined;
  /** Bare key → the annotations that set it under our prefixes, in READ_ORDER. Built on the first get. */
  private index: Map<string, Indexed[]> | undefined;

  constructor(
    private readonly annotations: Readonly<Record<string, string>>,
    readonly ref: ObjectRef,
    readonly sink: DiagnosticSink,
  ) {}

  /**
   * The value of `key` under the first of `prefixes` (in N, H, M, X order) that sets it.
   * When two prefixes set different values, the first wins and a warning names both.
   */
  get(key: string, prefixes: readonly Prefix[] = READ_ORDER): AnnotationValue | undefined {
    const entries = (this.index ??= this.buildIndex()).get(key);
    if (!entries) return undefined;
    let found: AnnotationValue | undefined;
    for (const { prefix, annotation, value } of entries) {
      if (!prefixes.includes(prefix)) continue;
      this.read.add(annotation);
      this.log?.push(annotation);
      if (typeof value !== 'string') continue;
      if (!found) found = { value, annotation };
      else if (value !== found.value) {
        this.sink.warning('XG_ANNOTATION_CONFLICT', this.ref, `${found.annotation}=${JSON.stringify(found.value)} is used; ${annotation}=${JSON.stringify(value)} is ignored`, `metadata.annotations["${annotation}"]`);
      }
    }
    return found;
  }

  /** Logs the annotations get() reads from now on, until stopLog(). */
  startLog(): void {
    this.log = [];
  }

  stopLog(): string[] {
    const out = this.log ?? [];
    this.log = undefined;
    return out;
  }

  /** Counts annotations as read (what families read on an earlier, identical object). */
  markRead(annotations: readonly string[]): void {
    for (const a of annotations) this.read.add(a);
  }

  /**
   * The annotations under our prefixes as one string (key, value, in the object's key
   * order): two readers with the same signature give every read the same answer. Undefined
   * when a value is not a string.
   */
  signature(): string | undefined {
    let out = '';
    for (const annotation of Object.keys(this.annotations)) {
      if (!splitKey(annotation)) continue;
      const value = this.annotations[annotation];
      if (typeof value !== 'string') return undefined;
      out += `${annotation}\u0000${value}\u0001`;
    }
    return out;
  }

  /** Whether no annotation of the object is under one of our prefixes (then every family reads nothing). */
  isEmpty(): boolean {
    return (this.index ??= this.buildIndex()).size === 0;
  }

  /**
   * The bare keys that start with `start` and are set under one of `prefixes`, sorted: for
   * families whose keys embed a name (H `exact-match-header-<name>`). Read each with get().
   */
  keysStartingWith(start: string, prefixes: readonly Prefix[] = READ_ORDER): string[] {
    const index = (this.index ??= this.buildIndex());
    const out: string[] = [];
    for (const [key, entries] of index) if (key.startsWith(start) && entries.some((e) => prefixes.includes(e.prefix))) out.push(key);
    return out.sort();
  }

  private buildIndex(): Map<string, Indexed[]> {
    const index = new Map<string, Indexed[]>();
    for (const annotation of Object.keys(this.annotations)) {
      const split = splitKey(annotation);
      if (!split) continue;
      const entry: Indexed = { prefix: split.prefix, annotation, value: this.annotations[annotation] };
      const list = index.get(split.key);
      if (list) list.push(entry);
      else index.set(split.key, [entry]);
    }
    for (const list of index.values()) {
      if (list.length > 1) list.sort((a, b) => READ_ORDER.indexOf(a.prefix) - READ_ORDER.indexOf(b.prefix));
    }
    return index;
  }

  /** Reports an invalid value as an error on the annotation that carries it. */
  invalid(v: AnnotationValue, why: string): void {
    this.sink.error('XG_ANNOTATION_INVALID', this.ref, `${v.annotation}=${JSON.stringify(v.value.length > 200 ? `${v.value.slice(0, 200)}…` : v.value)}: ${why}`, `metadata.annotations["${v.annotation}"]`);
  }

  /** Keys under our prefixes that no family read: most often a typo. */
  reportUnknown(): void {
    for (const annotation of Object.keys(this.annotations).sort()) {
      if (this.read.has(annotation) || !splitKey(annotation)) continue;
      this.sink.warning('XG_ANNOTATION_UNKNOWN', this.ref, `${annotation} is not read by xgate (a typo, or not supported yet); it has no effect`, `metadata.annotations["${annotation}"]`);
    }
  }
}
