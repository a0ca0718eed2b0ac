// Ingress path + pathType → a PathMatch, with the spec's rules.
import type { PathMatch, Route } from './ir.js';
import { hasRegexChars, isHttpPath } from './names.js';

export type PathResult =
  | { readonly ok: true; readonly match: PathMatch; readonly warning?: string }
  | { readonly ok: false; readonly message: string };

export function toPathMatch(path: unknown, pathType: unknown): PathResult {
  const type = pathType === undefined ? 'ImplementationSpecific' : pathType;
  if (type !== 'Exact' && type !== 'Prefix' && type !== 'ImplementationSpecific') {
    return { ok: false, message: `pathType ${JSON.stringify(pathType)} is not Exact, Prefix or ImplementationSpecific` };
  }
  const p = path === undefined || path === '' ? (type === 'ImplementationSpecific' ? '/' : undefined) : path;
  if (p === undefined) return { ok: false, message: `pathType ${type} needs a path` };
  if (!isHttpPath(p)) {
    return { ok: false, message: `path ${JSON.stringify(p)} must start with "/" and hold only URL path characters (no spaces, quotes, braces, "?", "#" or control characters)` };
  }
  const warning = hasRegexChars(p) ? `path ${JSON.stringify(p)} holds regex metacharacters; with pathType ${type} they match literally` : undefined;
  const w = warning ? { warning } : {};
  if (type === 'Exact') return { ok: true, match: { type: 'Exact', value: p }, ...w };
  if (type === 'Prefix') {
    // Element-wise: a trailing slash is ignored; '/' matches everything.
    const trimmed = p.replace(/\/+$/, '');
    return { ok: true, match: { type: 'Prefix', value: trimmed === '' ? '/' : trimmed }, ...w };
  }
  return { ok: true, match: { type: 'StringPrefix', value: p }, ...w };
}

const RANK: Record<PathMatch['type'], number> = { Exact: 0, Prefix: 1, StringPrefix: 2, Regex: 3 };

/** Longest path first; Exact before Prefix on equal length; then by value, for determinism. */
export function comparePathMatch(a: PathMatch, b: PathMatch): number {
  if (a.value.length !== b.value.length) return b.value.length - a.value.length;
  if (RANK[a.type] !== RANK[b.type]) return RANK[a.type] - RANK[b.type];
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function pathKey(m: PathMatch): string {
  return `${m.type}:${m.value}`;
}

/** Route order: by path (comparePathMatch); on the same path, routes with more match conditions first. */
export function compareRoutes(a: Route, b: Route): number {
  const p = comparePathMatch(a.match.path, b.match.path);
  if (p !== 0) return p;
  return conditions(b) - conditions(a);
}

function conditions(r: Route): number {
  return (r.match.headers?.length ?? 0) + (r.match.queryParams?.length ?? 0);
}
