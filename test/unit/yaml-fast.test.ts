// The fast manifest reader (js-yaml) against the `yaml` library: wherever the fast one
// gives an answer it is the `yaml` library's, value for value (-0, Infinity and NaN
// included); what it leaves to `yaml` is left.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { generate } from '../../bench/generate.js';
import { benchCert } from '../../bench/cert.js';
import { parseManifests } from '../../control-plane/src/sources/manifests.js';
import { fastDocuments } from '../../control-plane/src/sources/yaml-fast.js';

/** What manifests.ts's `yaml` path reads: the documents, or 'error'. */
function slow(text: string): unknown[] | 'error' {
  try {
    const docs = parseAllDocuments(text, { uniqueKeys: true });
    const list = Array.isArray(docs) ? docs : [docs];
    if (list.some((d) => d.errors.length > 0)) return 'error';
    return list.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
  } catch {
    return 'error';
  }
}

// Pieces of YAML that matter to scalars, keys, flow and block collections and documents.
const PIECES = [
  '0', '1', '9', '.', '-', '+', 'e', 'E', '_', 'x', 'o', 'b', ':', ' ', '#', '~', 'n', 'u', 'l', 't', 'r', 'f', 'a', 's',
  'T', 'N', 'F', 'I', 'i', "'", '"', '\\', '[', ']', '{', '}', ',', '&', '*', '!', '|', '>', '\n', '  ', '%', '@', '`',
  '?', '<', '=', 'é', '\t', '0x', '.inf', '.nan', 'true', 'null', '---', '...', '- ', ': ', '\r\n', '\ufeff', '&a ',
  '*a', '!!str ', 'Null', 'NULL', '0o', '0b', '1_0', '<<', 'e400', '|1', '>2-', '__proto__', '😀',
];
const piece = fc.constantFrom(...PIECES);
const scalarish = fc.array(piece, { minLength: 1, maxLength: 7 }).map((a) => a.join(''));

const TEMPLATES: ((s: string) => string)[] = [
  (s) => `a: ${s}\n`,
  (s) => `a:\n  - ${s}\n`,
  (s) => `${s}: 1\n`,
  (s) => `a: {b: ${s}}\n`,
  (s) => `a: [${s}]\nb: 1\n`,
  (s) => `a: |\n  ${s}\nb: >\n  x\n  ${s}\n`,
  (s) => `"${s}": 1\n`,
  (s) => `a: "${s}"\n`,
  (s) => `a: '${s}'\n`,
  (s) => `---\n${s}\n---\nb: 2\n`,
  (s) => `a:\n  b: |1\n  ${s}\n  c: 1\n`,
  (s) => `a:\n  b:\n    c: ${s}\n  d:\n  - e: ${s}\n    f: 1\n`,
  (s) => `kind: x\nmetadata:\n  annotations:\n    ${s}: "1"\n    k: ${s}\n`,
  (s) => s,
];

describe('fast manifest reader', () => {
  it('gives what the yaml library gives, or leaves the text to it (random scalars in every position)', () => {
    let fast = 0;
    fc.assert(
      fc.property(scalarish, fc.nat(TEMPLATES.length - 1), (s, t) => {
        const text = TEMPLATES[t]!(s);
        const got = fastDocuments(text);
        if (got === undefined) return true;
        fast++;
        const want = slow(text);
        if (!isDeepStrictEqual(got, want)) throw new Error(`${JSON.stringify(text)}: fast ${String(JSON.stringify(got))}, yaml ${String(JSON.stringify(want))}`);
        return true;
      }),
      { numRuns: Number(process.env['YAML_FAST_RUNS'] ?? 10_000), seed: Number(process.env['YAML_FAST_SEED'] ?? 7) },
    );
    expect(fast).toBeGreaterThan(1_500); // most of the texts take the fast path
  });

  it('leaves to the yaml library what the two read differently or what must be refused', () => {
    for (const text of [
      'a: &x 1\nb: *x\n', // alias: yaml's expansion limit applies
      'a: !!binary aGk=\n', // tags
      'a: !foo x\n',
      'a: 1\na: 2\n', // duplicate key: yaml's error message
      'null: 1\n', // js-yaml: "null", yaml: ""
      '~: 1\n',
      ': 1\n',
      'a:\n\tb: 1\n', // tab
      '\ufeffa: 1\n', // byte-order mark
      'a: 1\n...\nb: 2\n', // document end marker
      ' ---\n', // indented ---
      'a: |1\n  x\n', // indentation indicator
      'a: 1e400\n', // beyond a double
      `a: ${'9'.repeat(400)}\n`,
      '- a\n', // not a mapping
      'a: [1\n', // syntax error
      '? [a, b]\n: c\n', // complex key
    ]) {
      expect(fastDocuments(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('reads the bench manifests (every kind xgate watches, PEM Secrets) as the yaml library does', () => {
    const gen = generate({ ingresses: 60, cert: benchCert(), seed: 3 });
    const text = (gen.objects as unknown as Record<string, unknown>[]).map((o) => stringify(o)).join('---\n');
    const got = fastDocuments(text);
    expect(got).toBeDefined();
    expect(isDeepStrictEqual(got, slow(text))).toBe(true);
    const parsed = parseManifests(text, 'bench.yaml');
    expect(parsed.parsed).toBe(true);
    expect(parsed.objects.length).toBe(gen.objects.length);
  });

  it('reports errors as before: the yaml library reads what the fast path refuses', () => {
    const r = parseManifests('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n', 'dup.yaml');
    expect(r.parsed).toBe(false);
    expect(r.diagnostics[0]!.code).toBe('XG_MANIFEST_YAML');
    const aliased = parseManifests('apiVersion: v1\nkind: Service\nmetadata:\n  name: &n a\n  labels: {x: *n}\n', 'alias.yaml');
    expect(aliased.objects).toHaveLength(1);
    expect(aliased.objects[0]!.metadata.labels).toEqual({ x: 'a' });
  });
});
