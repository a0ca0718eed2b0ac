// A throwaway PKI made with the openssl CLI at test time: CAs, server and client
// certificates with the SANs a test asks for. Files live in a temp dir removed by
// cleanup(). Used by test/protocol/mtls.test.ts and the chart's Envoy test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends CertFiles {
  readonly name: string;
  /** Issues a certificate signed by this CA. */
  issue(name: string, opts: IssueOptions): CertFiles;
}

export interface IssueOptions {
  /** e.g. ['URI:spiffe://xgate/gateway/gw-1', 'DNS:xds.test', 'IP:127.0.0.1'] */
  readonly san: readonly string[];
  /** 'clientAuth', 'serverAuth' or both. Default both. */
  readonly usage?: readonly ('clientAuth' | 'serverAuth')[];
  /** Validity in days (default 2). */
  readonly days?: number;
}

export interface TestPki {
  readonly dir: string;
  ca(name: string): TestCa;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args.join(' ')}: ${e.stderr?.toString() ?? e.message}`);
  }
}

export function createPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  return {
    dir,
    ca(name) {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.crt`);
      openssl(['req', '-x509', ...ec, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
      return {
        name,
        cert,
        key,
        issue(leaf, opts) {
          const lkey = join(dir, `${leaf}.key`);
          const csr = join(dir, `${leaf}.csr`);
          const lcert = join(dir, `${leaf}.crt`);
          const ext = join(dir, `${leaf}.ext`);
          writeFileSync(ext, [
            'basicConstraints=critical,CA:FALSE',
            'keyUsage=critical,digitalSignature,keyEncipherment',
            `extendedKeyUsage=${(opts.usage ?? ['clientAuth', 'serverAuth']).join(',')}`,
            `subjectAltName=${opts.san.join(',')}`,
            '',
          ].join('\n'));
          openssl(['req', ...ec, '-keyout', lkey, '-out', csr, '-subj', `/CN=${leaf}`], dir);
          openssl(['x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-CAcreateserial', '-days', String(opts.days ?? 2), '-out', lcert, '-extfile', ext], dir);
          return { cert: lcert, key: lkey };
        },
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
