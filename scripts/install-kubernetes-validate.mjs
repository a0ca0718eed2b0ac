#!/usr/bin/env node
// Installs the pinned PyPI package `kubernetes-validate` (Kubernetes' OpenAPI schemas
// for every minor version 1.25–1.37 as JSON Schema, strict variants included, and a
// validator on jsonschema) into the project-local, git-ignored .tools/python/.
// The chart tests (test/helm/) validate every rendered object with it, offline.
//
//   node scripts/install-kubernetes-validate.mjs   (npm run install-kubernetes-validate; pretest)
//
// - Idempotent: when the package already imports from .tools/python with the pinned
//   version it only prints the path (about 0.2 s).
// - A fresh install is `python3 -m pip install --target .tools/python
//   --only-binary=:all: kubernetes-validate==1.37.0` (about 20 s; ~120 MB of schemas).
// - Any failure exits non-zero with the reason: the tests never skip validation.
//
// Plain Node ESM on purpose: it runs before the TypeScript build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBERNETES_VALIDATE_VERSION = '1.37.0';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, '.tools');
const TARGET = join(TOOLS, 'python');

class InstallError extends Error {}

function log(msg) {
  process.stderr.write(`[install-kubernetes-validate] ${msg}\n`);
}

/** The installed kubernetes-validate version in `dir`, or null. */
function versionIn(dir) {
  if (!existsSync(dir)) return null;
  const r = spawnSync('python3', ['-c', 'import kubernetes_validate.version as v; print(v.__version__)'], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 60_000,
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

function ensureToolsDir() {
  mkdirSync(TOOLS, { recursive: true });
  const ignore = join(TOOLS, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# project-local tools installed by scripts/install-*.mjs\n*\n');
}

function install() {
  const py = spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8', timeout: 60_000 });
  if (py.error || py.status !== 0) throw new InstallError(`python3 with pip is needed (python3 -m pip --version failed: ${py.error?.message ?? py.stderr})`);
  ensureToolsDir();
  const work = mkdtempSync(join(TOOLS, 'python-tmp-'));
  try {
    const started = Date.now();
    log(`installing kubernetes-validate==${KUBERNETES_VALIDATE_VERSION} from PyPI`);
    const r = spawnSync(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--no-warn-script-location', '--only-binary=:all:', '--target', work, `kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}`],
      { encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
    );
    if (r.error) throw new InstallError(`pip install: ${r.error.message}`);
    if (r.status !== 0) throw new InstallError(`pip install kubernetes-validate==${KUBERNETES_VALIDATE_VERSION} exited with ${r.status}\n${r.stdout}${r.stderr}`);
    const v = versionIn(work);
    if (v !== KUBERNETES_VALIDATE_VERSION) throw new InstallError(`installed, but it reports ${v ?? 'nothing'} instead of ${KUBERNETES_VALIDATE_VERSION}`);
    rmSync(TARGET, { recursive: true, force: true });
    renameSync(work, TARGET);
    log(`installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function main() {
  const have = versionIn(TARGET);
  if (have !== KUBERNETES_VALIDATE_VERSION) {
    if (have) log(`${TARGET} has ${have}, want ${KUBERNETES_VALIDATE_VERSION}: reinstalling`);
    install();
  }
  log(`${TARGET} (kubernetes-validate ${KUBERNETES_VALIDATE_VERSION})`);
}

try {
  main();
} catch (err) {
  log(`FAILED: ${err instanceof InstallError ? err.message : err?.stack ?? err}`);
  process.exit(1);
}
