// The control plane's logger: pino, JSON lines on stderr (stdout is reserved for
// CLI output such as `xgate translate`). Private keys and passwords never reach a
// log line: pino's path redaction covers the common shapes, and a `formatters.log`
// hook redacts the same keys at any depth (pino's wildcards only span one level).
import { Writable } from 'node:stream';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';
export type LogLevel = LevelWithSilent;

export const LOG_REDACTED = '[redacted]';

/** Keys whose values are secret wherever they appear (Envoy JSON, Kubernetes Secrets, HTTP headers). */
export const LOG_SECRET_KEYS: ReadonlySet<string> = new Set([
  'private_key',
  'privateKey',
  'password',
  'client_secret',
  'hmac_secret',
  'token_secret',
  'users',
  'tls.key',
  'authorization',
  'cookie',
  'set-cookie',
]);

/** Path redaction for pino (fast, but one level of wildcard per segment). */
export const LOG_REDACT_PATHS: readonly string[] = [...LOG_SECRET_KEYS].flatMap((k) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
  const join = (prefix: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`);
  return [key, join('*'), join('*.*'), join('*.*.*')];
});

export interface LoggerOptions {
  level: LogLevel;
  /** Human-readable lines instead of JSON (for a terminal); still on stderr, still redacted. */
  pretty?: boolean;
  /** Where lines go; stderr unless given (tests pass a stream to read what was logged). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  // Synchronous writes: log volume is low, and a crash must not lose its last lines.
  const raw = opts.destination ?? pino.destination({ fd: 2, sync: true });
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...LOG_REDACT_PATHS], censor: LOG_REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactDeep(obj) as Record<string, unknown>,
      },
    },
    opts.pretty ? prettyStream(raw) : raw,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const MAX_DEPTH = 12;

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Copies only what it must: returns the same object when nothing under it is secret.
 * Walks plain objects and arrays; anything else (Errors, Buffers, class instances) is
 * left to pino's serializers.
 */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = redactDeep(v, depth + 1, seen);
      if (r !== v) (out ??= [...value])[i] = r;
    });
    return out ?? value;
  }
  if (!isPlain(value)) return value;
  seen.add(value);
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = LOG_SECRET_KEYS.has(k) && v !== null && v !== undefined ? LOG_REDACTED : redactDeep(v, depth + 1, seen);
    if (r !== v) (out ??= { ...value })[k] = r;
  }
  return out ?? value;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** A minimal pretty printer (pino-pretty is not a dependency): `12:00:00.000 INFO  msg key=value …`. */
function prettyStream(out: { write(s: string): unknown }): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          out.write(prettyLine(JSON.parse(line) as Record<string, unknown>) + '\n');
        } catch {
          out.write(line + '\n');
        }
      }
      cb();
    },
  });
}

export function prettyLine(rec: Record<string, unknown>): string {
  const { level, time, msg, pid: _pid, hostname: _hostname, ...rest } = rec;
  const lvl = typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : String(level ?? '').toUpperCase();
  const t = typeof time === 'string' ? (time.split('T')[1]?.replace(/Z$/, '') ?? time) : typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${lvl.padEnd(5)} ${msg ?? ''}${fields ? ' ' + fields : ''}`;
}
