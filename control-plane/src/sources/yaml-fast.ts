// A fast first reading of manifest YAML. The `yaml` library (what manifests.ts reads
// with, for its error messages and alias limits) parses ~0.5 MB/s on this machine, so a
// folder of 100 Ingresses took 0.6–1.1 s to read at start-up; js-yaml reads the same
// text 4–6x faster. Its results are used only where the two libraries agree: any text
// it may read differently, and every error, is left to the `yaml` library.
//
// Left to `yaml` (undefined here): anything js-yaml refuses (syntax errors, duplicate
// keys, unknown tags, complex keys), any alias (`maxAliases: 0`; `yaml` enforces its
// alias-expansion limit), any tag at all, a tab anywhere in the text (js-yaml accepts
// some tab indentation `yaml` refuses), a byte-order mark anywhere, a `...` line (the
// two count the documents around it differently), an indented `---`, a
// block scalar with an indentation indicator (they differ on its blank lines), a plain scalar that may be a number beyond a double (js-yaml keeps
// it a string, `yaml` reads Infinity), a mapping key that is a plain null (`~`,
// `null`, empty): js-yaml names it "null", `yaml` ""; and a document that is not a
// mapping (no manifest; js-yaml is more lenient with a top-level block scalar). test/unit/yaml-fast.test.ts
// compares both on random scalars in every position and on the bench's manifests.
import { CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, constructFromEvents, parseEvents, type Event } from 'js-yaml';

/** The documents of `text` (null for an empty one), or undefined when the `yaml` library must read it. */
export function fastDocuments(text: string): unknown[] | undefined {
  if (text.includes('\t') || text.includes('\ufeff') || DOCUMENT_END.test(text) || INDENT_INDICATOR.test(text)) return undefined;
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined;
  }
  if (!plainEnough(events, text)) return undefined;
  let docs: unknown[];
  try {
    docs = constructFromEvents(events, { source: text, schema: CORE_SCHEMA, maxAliases: 0 });
  } catch {
    return undefined;
  }
  // A manifest is a mapping; anything else (where js-yaml is more lenient with block scalars) is left to `yaml`.
  for (const d of docs) if (d !== null && (typeof d !== 'object' || Array.isArray(d))) return undefined;
  return docs;
}

/** A `...` line (the two libraries count the documents around it differently), or an indented `---`, a
// block scalar with an indentation indicator (they differ on its blank lines). */
const DOCUMENT_END = /^(?:\.\.\.| +---)/m;
/** A block scalar header with an indentation indicator (`|2`, `>-1`): the two differ on its blank lines. */
const INDENT_INDICATOR = /[|>](?:[1-9][-+]?|[-+][1-9]) *(?:#.*)?$/m;

const NULL_KEYS = new Set(['', '~', 'null', 'Null', 'NULL']);

/**
 * A plain scalar that may be a number too large for a double: js-yaml keeps it as a
 * string, `yaml` reads Infinity. That takes 309 decimal digits, an exponent of 3 digits,
 * or 256 hex or octal digits.
 */
function mayOverflow(text: string, start: number, len: number): boolean {
  const c = text.charCodeAt(start);
  if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)) return false;
  return len >= 256 || EXPONENT_3.test(text.slice(start, start + len));
}

const EXPONENT_3 = /[eE][-+]?\d{3}/;

/** No alias, no tag, and no mapping key that is a plain null scalar. */
function plainEnough(events: readonly Event[], text: string): boolean {
  // Per open node: -1 for a document or a sequence, else the number of children a mapping has had.
  const stack: number[] = [];
  for (const e of events) {
    const top = stack.length - 1;
    const isKey = top >= 0 && stack[top]! >= 0 && (stack[top]! & 1) === 0;
    switch (e.type) {
      case EVENT_ID.DOCUMENT:
        stack.push(-1);
        continue;
      case EVENT_ID.POP:
        stack.pop();
        continue;
      case EVENT_ID.ALIAS:
        return false;
      case EVENT_ID.SCALAR:
        if (e.tagStart >= 0 || e.anchorStart >= 0) return false;
        if (e.style === SCALAR_STYLE.PLAIN) {
          const len = e.valueEnd - e.valueStart;
          if (isKey && len <= 4 && NULL_KEYS.has(text.slice(e.valueStart, e.valueEnd))) return false;
          if (mayOverflow(text, e.valueStart, len)) return false;
        }
        if (top >= 0 && stack[top]! >= 0) stack[top]!++;
        continue;
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING:
        if (e.tagStart >= 0 || e.anchorStart >= 0 || isKey) return false;
        if (top >= 0 && stack[top]! >= 0) stack[top]!++;
        stack.push(e.type === EVENT_ID.MAPPING ? 0 : -1);
        continue;
    }
  }
  return true;
}
