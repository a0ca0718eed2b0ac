// The real helm CLI and the Kubernetes schemas for the chart tests. Both are installed
// project-locally by pretest (scripts/install-helm.mjs, scripts/install-kubernetes-validate.mjs);
// when they are missing the tests fail with the command to run, they never skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../envoy/binary.js';

export const CHART_DIR = join(repoRoot(), 'helm', 'xgate');
/** The Kubernetes versions every rendered object is validated against: the chart's lowest (Chart.yaml kubeVersion) and the newest kubernetes-validate knows. */
export const KUBE_VERSIONS = ['1.29.0', '1.37.0'] as const;

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

export function helmBin(): string {
  const bin = process.env['XGATE_HELM_BIN'] ?? join(repoRoot(), '.tools', 'bin', 'helm');
  if (!existsSync(bin)) throw new Error(`helm not found at ${bin}: run npm run install-helm (pretest does)`);
  return bin;
}

/** Runs helm; resolves with stdout, throws with stderr on a non-zero exit. */
export function helm(args: readonly string[]): string {
  const r = spawnSync(helmBin(), args, { encoding: 'utf8', cwd: CHART_DIR, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 });
  if (r.error) throw r.error;
  // helm notes the followed symlinks (files/*.yaml, links to envoy/) on stderr; that is expected.
  const stderr = r.stderr.split('\n').filter((l) => !/found symbolic link in path: .*files\/[a-z-]+\.yaml/.test(l)).join('\n').trim();
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} exited with ${r.status}: ${stderr}`);
  return r.stdout;
}

export interface RenderOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** --set-json path=value pairs (values as JSON). */
  readonly set?: Record<string, unknown>;
}

export function templateArgs(opts: RenderOptions = {}): string[] {
  const args = ['template', opts.release ?? 'rel', '.', '--namespace', opts.namespace ?? 'xgate-system'];
  for (const [k, v] of Object.entries(opts.set ?? {})) args.push('--set-json', `${k}=${JSON.stringify(v)}`);
  return args;
}

/** `helm template` parsed into objects (empty documents dropped). */
export function render(opts: RenderOptions = {}): K8sObject[] {
  const out = helm(templateArgs(opts));
  const docs = parseAllDocuments(out);
  const objects: K8sObject[] = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`helm template produced invalid YAML: ${d.errors[0]!.message}`);
    const o = d.toJS() as K8sObject | null;
    if (o) objects.push(o);
  }
  return objects;
}

export interface SchemaResult {
  readonly index: number;
  readonly version: string;
  readonly result: 'valid' | 'invalid' | 'no-schema';
  readonly path?: string;
  readonly message?: string;
}

/** Validates objects with kubernetes-validate (strict: unknown fields are errors) against KUBE_VERSIONS. */
export function validateSchemas(objects: readonly K8sObject[]): SchemaResult[] {
  const pythonPath = join(repoRoot(), '.tools', 'python');
  if (!existsSync(join(pythonPath, 'kubernetes_validate'))) throw new Error(`kubernetes-validate not found in ${pythonPath}: run npm run install-kubernetes-validate (pretest does)`);
  const out = execFileSync('python3', [join(repoRoot(), 'test', 'helm', 'validate_k8s.py')], {
    input: JSON.stringify({ versions: KUBE_VERSIONS, objects }),
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 60_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  return JSON.parse(out) as SchemaResult[];
}

export const find = (objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const all = find(objects, kind, name);
  if (all.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${all.length}: ${all.map((o) => o.metadata.name).join(', ')}`);
  return all[0]!;
}
