// A valid self-signed certificate for the benchmark's TLS Secrets, made once per run
// with the openssl CLI (node:crypto can make keys but not certificates). Never
// written into the repository: it lives in a temporary folder that is removed.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCert {
  readonly cert: string;
  readonly key: string;
  /** How it was made, for the report. */
  readonly source: string;
}

let cached: BenchCert | undefined;

/** An EC P-256 certificate for `*.bench.example` (and the apex), valid for 10 days. */
export function benchCert(): BenchCert {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-cert-'));
  try {
    const keyPath = join(dir, 'tls.key');
    const crtPath = join(dir, 'tls.crt');
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyPath, '-out', crtPath, '-days', '10',
        '-subj', '/CN=bench.example',
        '-addext', 'subjectAltName=DNS:bench.example,DNS:*.bench.example',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
    );
    const cert = readFileSync(crtPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    // The same check the model makes (model/tls.ts): fail here, not as diagnostics later.
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error('openssl made a key that does not match its certificate');
    cached = { cert, key, source: 'openssl req -x509 (EC P-256, 10 days), generated at bench start' };
    return cached;
  } catch (e) {
    throw new Error(`cannot make the benchmark's self-signed certificate with openssl: ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
