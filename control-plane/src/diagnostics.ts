// Diagnostics: what xgate rejected, on which object, and why.
import type { Code } from './errors.js';

export interface ObjectRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export type Level = 'error' | 'warning';

export interface Diagnostic {
  readonly code: Code;
  readonly level: Level;
  readonly object: ObjectRef;
  readonly message: string;
  /** The field or annotation that carries the problem, e.g. `spec.rules[0].http.paths[1].path`. */
  readonly field?: string;
}

export function refString(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  const field = d.field ? ` (${d.field})` : '';
  return `${d.level} ${d.code} ${refString(d.object)}${field}: ${d.message}`;
}

/** Stable order: by object, then code, then field, then message. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  // Decorate, sort, undecorate: each key is built once, not twice per comparison.
  const keyed = ds.map((d) => ({
    d,
    key: [d.object.kind, d.object.namespace, d.object.name, d.code, d.field ?? '', d.message].join('\u0000'),
  }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.d);
}

/** Collects diagnostics during one translation. */
export class DiagnosticSink {
  readonly items: Diagnostic[] = [];
  error(code: Code, object: ObjectRef, message: string, field?: string): void {
    this.items.push({ code, level: 'error', object, message, ...(field ? { field } : {}) });
  }
  warning(code: Code, object: ObjectRef, message: string, field?: string): void {
    this.items.push({ code, level: 'warning', object, message, ...(field ? { field } : {}) });
  }
}
