// Golden files: manifests in test/golden/cases/<case>/input → expected.yaml (the
// diagnostics, the Envoy resources for proxies with secrets redacted, and the API
// listeners for proxyless gRPC), translated with the default options or those of the
// case's optional options.yaml. Rewrite with `npm run test:update-golden`
// (UPDATE_GOLDEN=1); otherwise a difference fails. Every case's resources must also
// be accepted by the real Envoy binary.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toYaml, renderable } from '../../control-plane/src/cli/render.js';
import { sortDiagnostics } from '../../control-plane/src/diagnostics.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore, type PipelineOptions } from '../../control-plane/src/pipeline/translate-store.js';
import { checkConsistency } from '../../control-plane/src/pipeline/consistency.js';
import { readManifests } from '../../control-plane/src/sources/file-source.js';
import { snapshotOf, type StoreSnapshot } from '../../control-plane/src/sources/store.js';
import type { ExternalDocument } from '../../control-plane/src/sources/external.js';
import { parse as parseYaml } from 'yaml';
import { SnapshotEncoder } from '../../control-plane/src/xds/cache/snapshot.js';
import { resourceName } from '../../control-plane/src/translate/resources.js';
import { validateWithEnvoy } from '../../envoy/validate.js';

const CASES = path.join(import.meta.dirname, 'cases');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

/** Codes each negative case must produce (the golden file holds the full text). */
const REQUIRED_CODES: Record<string, string[]> = {
  'bad-manifests': ['XG_MANIFEST_YAML', 'XG_MANIFEST_UNKNOWN_KIND', 'XG_MANIFEST_SHAPE', 'XG_MANIFEST_DUPLICATE', 'XG_NAME_INVALID'],
  'bad-paths-and-hosts': ['XG_INGRESS_HOST_INVALID', 'XG_INGRESS_PATH_INVALID', 'XG_INGRESS_PATH_REGEX_CHARS'],
  'missing-backends': ['XG_SERVICE_NOT_FOUND', 'XG_SERVICE_PORT_NOT_FOUND', 'XG_INGRESS_RESOURCE_BACKEND', 'XG_INGRESS_NO_BACKEND'],
  'host-conflict': ['XG_HOST_CONFLICT'],
  'tls-sni': ['XG_SECRET_NOT_FOUND', 'XG_SECRET_INVALID', 'XG_TLS_CONFLICT'],
  'default-backend': ['XG_DEFAULT_BACKEND_CONFLICT'],
  'annotations-basics': ['XG_ANNOTATION_INVALID', 'XG_ANNOTATION_CONFLICT', 'XG_ANNOTATION_UNKNOWN'],
  'canary-rejections': ['XG_CANARY_INVALID', 'XG_CANARY_NO_PRIMARY', 'XG_CANARY_NAMESPACE', 'XG_CANARY_IGNORED', 'XG_SERVICE_NOT_FOUND'],
  'canary-several': ['XG_CANARY_WEIGHT_OVERFLOW'],
  'warmup-basics': ['XG_WARMUP_CONFLICT'],
  'warmup-invalid': ['XG_ANNOTATION_INVALID', 'XG_WARMUP_INCOMPLETE', 'XG_ANNOTATION_CONFLICT'],
};

/** REQUIRED_CODES, plus the case's own `required-codes.txt` (one code per line) when it has one. */
function requiredCodes(name: string): string[] {
  const file = path.join(CASES, name, 'required-codes.txt');
  const own = existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : [];
  return [...(REQUIRED_CODES[name] ?? []), ...own];
}

async function run(name: string) {
  const input = await readManifests(path.join(CASES, name, 'input'));
  const result = translateStore(withExternal(name, snapshotOf(input.objects)), optionsOf(name));
  const diagnostics = sortDiagnostics([...input.diagnostics.map(relativeFile), ...result.diagnostics]);
  return { result, diagnostics };
}

/** The pipeline options of a case: the defaults, with its optional `options.yaml` on top (e.g. `routeShards: 4`). */
function optionsOf(name: string): PipelineOptions {
  const file = path.join(CASES, name, 'options.yaml');
  if (!existsSync(file)) return DEFAULT_PIPELINE_OPTIONS;
  return { ...DEFAULT_PIPELINE_OPTIONS, ...(parseYaml(readFileSync(file, 'utf8')) as Partial<PipelineOptions>) };
}

/**
 * The documents the control plane would fetch (the golden runner has no fetcher): a case's
 * optional `external.yaml` maps each URL to its body (a string) or to `{ error: why }`.
 */
function withExternal(name: string, snap: StoreSnapshot): StoreSnapshot {
  const file = path.join(CASES, name, 'external.yaml');
  if (!existsSync(file)) return snap;
  const docs = parseYaml(readFileSync(file, 'utf8')) as Record<string, string | { error: string }>;
  const external = new Map<string, ExternalDocument>(
    Object.entries(docs).map(([url, d]) => [url, typeof d === 'string' ? { ok: true, url, body: d } : { ok: false, url, error: d.error }]),
  );
  return { ...snap, external };
}

function relativeFile<T extends { object: { kind: string; name: string } }>(d: T): T {
  return d.object.kind === 'File' ? { ...d, object: { ...d.object, name: path.basename(d.object.name) } } : d;
}

const cases = readdirSync(CASES).filter((c) => existsSync(path.join(CASES, c, 'input'))).sort();

describe('golden translation', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(10));

  for (const name of cases) {
    describe(name, () => {
      it('matches expected.yaml', async () => {
        const { result, diagnostics } = await run(name);
        const out = toYaml({
          ...renderable(result.resources['envoy']!, diagnostics),
          grpc_api_listeners: result.resources['grpc']!.listeners.map(resourceName),
        });
        const file = path.join(CASES, name, 'expected.yaml');
        if (UPDATE || !existsSync(file)) {
          if (!UPDATE) throw new Error(`${file} is missing: run npm run test:update-golden`);
          writeFileSync(file, out);
        }
        expect(out).toBe(readFileSync(file, 'utf8'));
        for (const code of requiredCodes(name)) expect(diagnostics.map((d) => d.code)).toContain(code);
      });

      it('is consistent, encodes, and is deterministic', async () => {
        const a = await run(name);
        const b = await run(name);
        for (const group of ['envoy', 'grpc']) expect(checkConsistency(a.result.resources[group]!)).toEqual([]);
        const sa = new SnapshotEncoder().buildGroups(a.result.resources);
        const sb = new SnapshotEncoder().buildGroups(b.result.resources);
        expect(sa['envoy']!.version).toBe(sb['envoy']!.version);
        expect(sa['grpc']!.version).toBe(sb['grpc']!.version);
      });

      it('is accepted by the real Envoy', async () => {
        const { result } = await run(name);
        const v = await validateWithEnvoy(result.resources['envoy']!);
        expect(v.message).toBe(v.ok ? v.message : '(accepted)');
        expect(v.ok).toBe(true);
      });
    });
  }
});
