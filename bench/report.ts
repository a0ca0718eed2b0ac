// What every benchmark report carries (benchmarks.md: machine, Node and Envoy
// versions, parameters, raw samples, medians), and the small helpers to fill it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { collectGarbage } from '../control-plane/src/pipeline/idle-gc.js';
import { envoyVersion, repoRoot } from '../envoy/binary.js';

export interface MachineInfo {
  readonly os: { readonly platform: string; readonly release: string; readonly arch: string };
  readonly cpus: { readonly count: number; readonly model: string; readonly speedMHz: number };
  readonly memoryBytes: number;
  readonly loadavg: readonly number[];
  /**
   * How fast this machine ran a fixed single-threaded loop when the report was written
   * (ms, lower is faster; see speedProbe). This 2-core VM's speed varies 2x and more
   * between windows, so figures from reports with different probes do not compare.
   */
  readonly speedProbeMs: number;
}

/** Milliseconds for a fixed loop (1e8 steps of integer arithmetic and a branch): a yardstick of the machine's speed now. */
export function speedProbe(): number {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < 1e8; i++) x = (x + (i % 7)) | 0;
  const ms = performance.now() - t0;
  // x is used so the loop is not optimised away.
  return round(ms + (x === -1 ? 1 : 0), 0);
}

export interface Environment {
  readonly machine: MachineInfo;
  readonly node: string;
  readonly v8: string;
  /** null when the pinned Envoy is not installed (the benchmark does not need it). */
  readonly envoy: { readonly version: string; readonly full: string } | null;
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
}

export function environment(): Environment {
  const cpus = os.cpus();
  let envoy: Environment['envoy'] = null;
  try {
    envoy = envoyVersion();
  } catch {
    envoy = null;
  }
  let git: Environment['git'] = null;
  try {
    const cwd = repoRoot();
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    git = { commit, dirty };
  } catch {
    git = null;
  }
  return {
    machine: {
      os: { platform: os.platform(), release: os.release(), arch: os.arch() },
      cpus: { count: cpus.length, model: cpus[0]?.model ?? 'unknown', speedMHz: cpus[0]?.speed ?? 0 },
      memoryBytes: os.totalmem(),
      loadavg: os.loadavg(),
      speedProbeMs: speedProbe(),
    },
    node: process.version,
    v8: process.versions.v8,
    envoy,
    git,
  };
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly p90: number;
}

export function stats(samples: readonly number[]): Stats {
  if (!samples.length) return { median: NaN, min: NaN, max: NaN, p90: NaN };
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const p90 = s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)]!;
  return { median: round(median), min: round(s[0]!), max: round(s[s.length - 1]!), p90: round(p90) };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A full GC (so samples do not pay for the previous one's garbage). Works without --expose-gc. */
export function gc(): void {
  collectGarbage();
}

export interface MemorySample {
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
  readonly arrayBuffersMiB: number;
  readonly rssMiB: number;
  /** Peak RSS of the process so far. */
  readonly maxRssMiB: number;
}

const MiB = 1024 * 1024;

export function memory(): MemorySample {
  const m = process.memoryUsage();
  return {
    heapUsedMiB: round(m.heapUsed / MiB, 1),
    heapTotalMiB: round(m.heapTotal / MiB, 1),
    externalMiB: round(m.external / MiB, 1),
    arrayBuffersMiB: round(m.arrayBuffers / MiB, 1),
    rssMiB: round(m.rss / MiB, 1),
    maxRssMiB: round((process.resourceUsage().maxRSS * 1024) / MiB, 1),
  };
}

/** A file-name-safe UTC timestamp: 2025-01-31T12-00-00Z. */
export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export function resultsDir(): string {
  return join(repoRoot(), 'bench', 'results');
}

export function writeReport(dir: string, id: string, when: Date, report: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${id}-${timestamp(when)}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** A plain text table, right-aligned numbers. */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  return cells
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
