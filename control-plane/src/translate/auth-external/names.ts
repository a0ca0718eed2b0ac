// Deterministic names of the filter instances of this area: one per distinct config,
// named by a hash of that config's canonical JSON (sorted keys), so the same config
// gets the same name on every replica and after every restart.
import { createHash } from 'node:crypto';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const memo = new WeakMap<object, string>();

/** 16 hex digits of SHA-256 over the canonical JSON of `spec` (memoised per object). */
export function specHash(spec: object): string {
  let h = memo.get(spec);
  if (!h) {
    h = createHash('sha256').update(canonical(spec)).digest('hex').slice(0, 16);
    memo.set(spec, h);
  }
  return h;
}
