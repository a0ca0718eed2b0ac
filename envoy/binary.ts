// Where the pinned Envoy binary is. scripts/install-envoy.mjs puts it in
// <repo>/.envoy/bin/envoy; XGATE_ENVOY_BIN overrides the path.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Envoy version the project pins (scripts/install-envoy.mjs installs it). */
export const PINNED_ENVOY_VERSION = '1.39.3';

let rootCache: string | undefined;

/** The repository root: the nearest ancestor of this module with xgate's package.json (works from envoy/ and dist/envoy/). */
export function repoRoot(): string {
  if (rootCache) return rootCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'xgate') return (rootCache = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the xgate repository root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Path of the project-local Envoy, whether or not it is installed. */
export function defaultEnvoyPath(): string {
  return join(repoRoot(), '.envoy', 'bin', 'envoy');
}

/**
 * The Envoy binary to run: $XGATE_ENVOY_BIN, else <repo>/.envoy/bin/envoy.
 * Throws (never returns a path that cannot run) when it is missing or not executable.
 */
export function envoyBinary(): string {
  const override = process.env['XGATE_ENVOY_BIN'];
  const bin = override ? resolve(override) : defaultEnvoyPath();
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(
      override
        ? `Envoy binary not found or not executable: XGATE_ENVOY_BIN=${override}. Fix the path or unset it and run \`npm run install-envoy\`.`
        : `Envoy binary not found at ${bin}. Run \`npm run install-envoy\` (installs Envoy ${PINNED_ENVOY_VERSION} into .envoy/).`,
    );
  }
  return bin;
}

export interface EnvoyVersion {
  /** e.g. "1.39.3" */
  readonly version: string;
  /** The full `envoy --version` line, e.g. "…/1.39.3/Clean/RELEASE/BoringSSL". */
  readonly full: string;
}

const versionCache = new Map<string, EnvoyVersion>();

/** `envoy --version`, parsed. Throws when the binary is missing or prints no version. */
export function envoyVersion(bin: string = envoyBinary()): EnvoyVersion {
  const cached = versionCache.get(bin);
  if (cached) return cached;
  const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const full = out.trim().replace(/^.*?version:\s*/s, '');
  const m = /\/(\d+\.\d+\.\d+[^/]*)\//.exec(full);
  if (!m?.[1]) throw new Error(`cannot parse the version printed by ${bin} --version: ${out.trim()}`);
  const v = { version: m[1], full };
  versionCache.set(bin, v);
  return v;
}
