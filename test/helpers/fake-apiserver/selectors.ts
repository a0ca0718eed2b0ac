// Field and label selectors, as far as the stand-in needs them: field selectors with
// `=`, `==`, `!=` on any dotted path (metadata.name, type, involvedObject.uid …), label
// selectors with equality, inequality, existence, `in` and `notin`.
type Obj = Record<string, unknown>;

export type Matcher = (obj: Obj) => boolean;

export class SelectorError extends Error {}

function getPath(obj: Obj, path: string): string {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Obj)[p];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function fieldSelector(sel: string | undefined): Matcher {
  if (!sel) return () => true;
  const terms = sel.split(',').map((t) => {
    const m = /^([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*)$/.exec(t.trim());
    if (!m) throw new SelectorError(`invalid field selector term ${JSON.stringify(t)}`);
    return { path: m[1]!, op: m[2]!, value: m[3]! };
  });
  return (obj) => terms.every((t) => (getPath(obj, t.path) === t.value) === (t.op !== '!='));
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(sel: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of sel) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur);
  return out;
}

export function labelSelector(sel: string | undefined): Matcher {
  if (!sel) return () => true;
  const tests = splitTerms(sel).map((raw): ((labels: Record<string, string>) => boolean) => {
    const t = raw.trim();
    let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t);
    if (m) {
      const key = m[1]!;
      const values = new Set(m[3]!.split(',').map((v) => v.trim()));
      return m[2] === 'in' ? (l) => key in l && values.has(l[key]!) : (l) => !(key in l) || !values.has(l[key]!);
    }
    m = /^([^\s!=]+)\s*(==|!=|=)\s*(\S*)$/.exec(t);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^(!?)([^\s!=(),]+)$/.exec(t);
    if (m) {
      const key = m[2]!;
      return m[1] ? (l) => !(key in l) : (l) => key in l;
    }
    throw new SelectorError(`invalid label selector term ${JSON.stringify(t)}`);
  });
  return (obj) => {
    const labels = ((obj['metadata'] as Obj | undefined)?.['labels'] ?? {}) as Record<string, string>;
    return tests.every((f) => f(labels));
  };
}
