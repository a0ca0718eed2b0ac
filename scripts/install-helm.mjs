#!/usr/bin/env node
// Installs the pinned Helm CLI into the project-local, git-ignored folder .tools/.
//
// Helm is built from source with the Go toolchain through the Go module proxy:
//
//   GOBIN=.tools/bin go install helm.sh/helm/v3/cmd/helm@v3.22.0
//
//   node scripts/install-helm.mjs      (npm run install-helm; chained into pretest)
//
// - Idempotent: when .tools/bin/helm already reports the pinned version it only prints
//   the path (about 0.1 s).
// - XGATE_HELM_BIN=/path/to/helm skips the build and checks that binary instead.
// - The first build is a one-time cost: about 4 minutes on 2 cores with an empty Go
//   module and build cache (downloading ~100 modules, compiling client-go); with a
//   warm Go cache it is a relink of a few seconds.
// - Any failure exits non-zero with the reason: tests need the real helm and never skip.
// - .tools/ carries its own .gitignore ("*"), so nothing here is ever committed.
//
// Plain Node ESM on purpose: it runs before the TypeScript build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HELM_VERSION = 'v3.22.0';
const MODULE = 'helm.sh/helm/v3';
// What helm's Makefile sets from the k8s.io/client-go version in its go.mod (v0.37.0
// for helm v3.22.0): the Kubernetes version `helm template` and `helm lint` assume
// without --kube-version. A plain `go install` would leave the source default, 1.20.
const K8S_MAJOR = '1';
const K8S_MINOR = '37';
const LDFLAGS = [
  '-s -w',
  `-X ${MODULE}/internal/version.version=${HELM_VERSION}`,
  `-X ${MODULE}/pkg/chartutil.k8sVersionMajor=${K8S_MAJOR}`,
  `-X ${MODULE}/pkg/chartutil.k8sVersionMinor=${K8S_MINOR}`,
  `-X ${MODULE}/pkg/lint/rules.k8sVersionMajor=${K8S_MAJOR}`,
  `-X ${MODULE}/pkg/lint/rules.k8sVersionMinor=${K8S_MINOR}`,
].join(' ');
/** Written next to the binary after a build; a binary built otherwise is rebuilt. */
const BUILD_ID = `${MODULE}/cmd/helm@${HELM_VERSION} ${LDFLAGS}`;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, '.tools');
const BIN_DIR = join(TOOLS, 'bin');
const DEFAULT_BIN = join(BIN_DIR, 'helm');
const STAMP = join(BIN_DIR, 'helm.build');

class InstallError extends Error {}

function log(msg) {
  process.stderr.write(`[install-helm] ${msg}\n`);
}

/** `helm version` of a binary, or null when it is missing or does not run. */
function versionOf(bin) {
  if (!existsSync(bin)) return null;
  const r = spawnSync(bin, ['version', '--template', '{{.Version}}'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim();
}

function ensureToolsDir() {
  mkdirSync(BIN_DIR, { recursive: true });
  const ignore = join(TOOLS, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# project-local tools installed by scripts/install-*.mjs\n*\n');
}

function build() {
  const go = spawnSync('go', ['version'], { encoding: 'utf8', timeout: 60_000 });
  if (go.error || go.status !== 0) {
    throw new InstallError(`the Go toolchain is needed to build helm (go version failed: ${go.error?.message ?? go.stderr}); install Go >= 1.22 (it fetches the toolchain helm ${HELM_VERSION} needs through the module proxy)`);
  }
  ensureToolsDir();
  log(`building helm ${HELM_VERSION} with ${go.stdout.trim()} (one-time; about 4 minutes on a cold Go cache)`);
  const started = Date.now();
  const r = spawnSync(
    'go',
    ['install', '-trimpath', '-ldflags', LDFLAGS, `${MODULE}/cmd/helm@${HELM_VERSION}`],
    {
      encoding: 'utf8',
      env: { ...process.env, GOBIN: BIN_DIR, CGO_ENABLED: '0', GOFLAGS: [process.env.GOFLAGS, '-buildvcs=false'].filter(Boolean).join(' ') },
      timeout: 30 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.error) throw new InstallError(`go install ${MODULE}/cmd/helm@${HELM_VERSION}: ${r.error.message}`);
  if (r.status !== 0) throw new InstallError(`go install ${MODULE}/cmd/helm@${HELM_VERSION} exited with ${r.status ?? r.signal}\n${r.stderr.split('\n').slice(-40).join('\n')}`);
  writeFileSync(STAMP, `${BUILD_ID}\n`);
  log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const stampMatches = () => existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === BUILD_ID;

function main() {
  const override = process.env.XGATE_HELM_BIN;
  if (override) {
    const v = versionOf(override);
    if (!v) throw new InstallError(`XGATE_HELM_BIN=${override} does not run (helm version failed)`);
    if (!v.startsWith('v3.')) throw new InstallError(`XGATE_HELM_BIN=${override} is helm ${v}; the chart tests need helm v3`);
    log(`using XGATE_HELM_BIN=${override} (${v})`);
    return;
  }
  const have = versionOf(DEFAULT_BIN);
  if (have === HELM_VERSION && stampMatches()) {
    log(`${DEFAULT_BIN} (${have})`);
    return;
  }
  if (have) log(`${DEFAULT_BIN} is ${have}${have === HELM_VERSION ? ' built with other flags' : ''}, want ${HELM_VERSION}: rebuilding`);
  build();
  const got = versionOf(DEFAULT_BIN);
  if (got !== HELM_VERSION) throw new InstallError(`after go install, ${DEFAULT_BIN} reports ${got ?? 'nothing'} instead of ${HELM_VERSION}`);
  log(`${DEFAULT_BIN} (${got})`);
}

try {
  main();
} catch (err) {
  log(`FAILED: ${err instanceof InstallError ? err.message : err?.stack ?? err}`);
  process.exit(1);
}
