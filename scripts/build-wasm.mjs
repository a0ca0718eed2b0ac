#!/usr/bin/env node
// Builds the proxy-wasm plugins in wasm-plugins/ from source (npm run build-wasm;
// chained into pretest and predemo). Today: wasm-plugins/waf → wasm-plugins/waf/dist/waf.wasm
// (git-ignored), with the upstream Go toolchain (≥ 1.24) as a WASI reactor:
//
//   GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o dist/waf.wasm .
//
// - Idempotent: a stamp next to the output records a sha256 over the plugin's sources
//   (*.go, go.mod, go.sum) and `go version`; when it matches and the .wasm exists,
//   nothing is rebuilt (about 0.05 s).
// - Fails loudly: no Go, Go < 1.24, a failed build or a module without the proxy-wasm
//   ABI export exit non-zero with the reason.
// - XGATE_WASM_FORCE=1 rebuilds regardless of the stamp.
// - Module downloads go through the Go module proxy (GOPROXY as configured); go.sum pins them.
//
// Plain Node ESM on purpose: it runs before the TypeScript build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLUGINS = [{ name: 'waf', dir: join(ROOT, 'wasm-plugins', 'waf'), out: 'dist/waf.wasm' }];
const MIN_GO = [1, 24];

function log(msg) {
  process.stderr.write(`[build-wasm] ${msg}\n`);
}

function fail(msg) {
  log(`ERROR: ${msg}`);
  process.exit(1);
}

function goVersion() {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) fail(`the Go toolchain (go ≥ ${MIN_GO.join('.')}) is required to build wasm-plugins/: ${r.error?.message ?? r.stderr}`);
  const m = /go(\d+)\.(\d+)/.exec(r.stdout);
  if (!m) fail(`cannot parse \`go version\`: ${r.stdout}`);
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (maj < MIN_GO[0] || (maj === MIN_GO[0] && min < MIN_GO[1])) fail(`Go ${maj}.${min} is too old: wasip1 reactors (-buildmode=c-shared) need Go ≥ ${MIN_GO.join('.')}`);
  return r.stdout.trim();
}

function sourceHash(dir, gover) {
  const h = createHash('sha256');
  h.update(gover);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum')
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
  for (const f of files) {
    h.update(`\0${f}\0`);
    h.update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}

/** A proxy-wasm module exports proxy_abi_version_0_2_x and _initialize (a WASI reactor). */
function checkExports(file) {
  const mod = new WebAssembly.Module(readFileSync(file));
  const names = WebAssembly.Module.exports(mod).map((e) => e.name);
  if (!names.some((n) => n.startsWith('proxy_abi_version_'))) fail(`${file}: no proxy_abi_version_* export; not a proxy-wasm module`);
  if (!names.includes('_initialize')) fail(`${file}: no _initialize export; not built as a WASI reactor (-buildmode=c-shared)`);
}

const gover = goVersion();
for (const p of PLUGINS) {
  const out = join(p.dir, p.out);
  const stamp = `${out}.stamp`;
  const hash = sourceHash(p.dir, gover);
  if (process.env['XGATE_WASM_FORCE'] !== '1' && existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) {
    log(`${p.name}: up to date (${out})`);
    continue;
  }
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const started = Date.now();
  const r = spawnSync('go', ['build', '-buildmode=c-shared', '-trimpath', '-o', tmp, '.'], {
    cwd: p.dir,
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm', CGO_ENABLED: '0', GOFLAGS: [process.env['GOFLAGS'], '-mod=readonly'].filter(Boolean).join(' ') },
    timeout: 900_000,
  });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    fail(`${p.name}: go build failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}) in ${p.dir}`);
  }
  // c-shared on wasip1 writes a companion header next to the output in some versions.
  rmSync(tmp.replace(/\.[^./]+$/, '.h'), { force: true });
  checkExports(tmp);
  renameSync(tmp, out);
  writeFileSync(stamp, `${hash}\n`);
  log(`${p.name}: built ${out} (${(statSync(out).size / 1024 / 1024).toFixed(2)} MiB) in ${((Date.now() - started) / 1000).toFixed(1)} s with ${gover}`);
}
