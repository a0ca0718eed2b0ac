// H/M header control (Higress): `request-header-control-add|update|remove` and
// `response-header-control-add|update|remove`.
//   add / update: one header per line, `name value` (the first run of blanks separates
//                 them; the value may hold spaces). add appends to a header the request
//                 already has, update replaces it.
//   remove:       a comma-separated list of header names.
// An invalid annotation is dropped whole (reported); the other five still apply.
import type { AnnotationFamily } from '../family.js';
import type { AnnotationReader } from '../reader.js';
import { escapeHeaderValue, headerNameProblem, headerValueProblem } from './common.js';

export interface HeaderEdit {
  /** Lowercase header name. */
  readonly name: string;
  /** Literal value, already escaped for Envoy (`%` → `%%`). */
  readonly value: string;
}

export interface HeaderOperations {
  readonly add: readonly HeaderEdit[];
  readonly update: readonly HeaderEdit[];
  /** Lowercase header names. */
  readonly remove: readonly string[];
}

export interface HeaderControlSpec {
  readonly request?: HeaderOperations;
  readonly response?: HeaderOperations;
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    readonly headerControl?: HeaderControlSpec;
  }
}

const PREFIXES = ['H', 'M', 'X'] as const;
const MAX_LINES = 64;

/** `name value` lines → edits, or why not. */
export function parseHeaderLines(value: string): HeaderEdit[] | string {
  const out: HeaderEdit[] = [];
  const lines = value.split('\n').map((l) => l.replace(/\r$/, '').trim()).filter((l) => l !== '');
  if (lines.length === 0) return 'holds no header line ("name value")';
  if (lines.length > MAX_LINES) return `holds more than ${MAX_LINES} headers`;
  for (const line of lines) {
    if (/[\r\0]/.test(line)) return 'a header line cannot hold CR or NUL';
    const m = /^(\S+)[ \t]+(.*)$/.exec(line);
    if (!m) return `line ${JSON.stringify(line.slice(0, 64))} is not "name value"`;
    const name = m[1]!;
    const val = m[2]!.trim();
    const np = headerNameProblem(name);
    if (np) return np;
    const vp = headerValueProblem(val);
    if (vp) return `header ${name}: ${vp}`;
    out.push({ name: name.toLowerCase(), value: escapeHeaderValue(val) });
  }
  return out;
}

/** `a, b` → names, or why not. */
export function parseHeaderNames(value: string): string[] | string {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return 'lists no header name';
  if (names.length > MAX_LINES) return `lists more than ${MAX_LINES} headers`;
  for (const n of names) {
    const p = headerNameProblem(n);
    if (p) return p;
  }
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

function readSide(r: AnnotationReader, side: 'request' | 'response'): HeaderOperations | undefined {
  let add: HeaderEdit[] = [];
  let update: HeaderEdit[] = [];
  let remove: string[] = [];
  const a = r.get(`${side}-header-control-add`, [...PREFIXES]);
  if (a) {
    const p = parseHeaderLines(a.value);
    if (typeof p === 'string') r.invalid(a, `${p}; these headers are not added`);
    else add = p;
  }
  const u = r.get(`${side}-header-control-update`, [...PREFIXES]);
  if (u) {
    const p = parseHeaderLines(u.value);
    if (typeof p === 'string') r.invalid(u, `${p}; these headers are not updated`);
    else {
      // A later line for the same header wins (Higress keeps a map).
      const byName = new Map<string, HeaderEdit>();
      for (const e of p) byName.set(e.name, e);
      update = [...byName.values()];
    }
  }
  const d = r.get(`${side}-header-control-remove`, [...PREFIXES]);
  if (d) {
    const p = parseHeaderNames(d.value);
    if (typeof p === 'string') r.invalid(d, `${p}; no header is removed`);
    else remove = p;
  }
  if (!add.length && !update.length && !remove.length) return undefined;
  return { add, update, remove };
}

export const headerControlFamily: AnnotationFamily = {
  name: 'header-control',
  parse(r) {
    const request = readSide(r, 'request');
    const response = readSide(r, 'response');
    if (!request && !response) return undefined;
    return { headerControl: { ...(request ? { request } : {}), ...(response ? { response } : {}) } };
  },
};
