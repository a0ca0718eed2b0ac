// The xgate command line: serve, translate, validate.
import { formatDiagnostic, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { UsageError, parseServe, parseTranslate, type TranslateCommandOptions } from './options.js';
import { translateStore } from './pipeline/translate-store.js';
import { readManifests } from './sources/file-source.js';
import { snapshotOf } from './sources/store.js';
import { fetchDocuments } from './sources/external-fetcher.js';
import type { EnvoyResources } from './translate/resources.js';

const USAGE = `usage:
  xgate serve --manifests DIR [--xds-address 127.0.0.1:18000] [--admin-address 127.0.0.1:18080]
              [--http-port 8080] [--https-port 8443] [--bind-address 0.0.0.0]
              [--ingress-class xgate] [--controller-name xgate.io/ingress-controller] [--watch-ingress-without-class]
              [--log-level info] [--debounce-ms 20] [--max-delay-ms 500] [--idle-gc-ms 1000]
  xgate serve --kube [--kubeconfig PATH] [--namespaces a,b] [--publish-service NS/NAME | --publish-address IP|HOST[,…]]
              [--election-namespace NS] [--election-id xgate-leader] [--pod-name NAME]
              [--lease-duration-ms 15000] [--renew-deadline-ms 10000] [--retry-period-ms 2000]
              (and the serve options above, except --manifests)
  xgate translate -f FILE|DIR [-o yaml|json] [--group envoy|grpc]
  xgate validate -f FILE|DIR
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'serve': {
        const { serve } = await import('./serve.js');
        await serve(parseServe(args));
        return 0;
      }
      case 'translate':
        return await translateCommand(parseTranslate(args, 'translate'));
      case 'validate':
        return await validateCommand(parseTranslate(args, 'validate'));
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`xgate: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

async function translateFiles(opts: TranslateCommandOptions): Promise<{ resources: EnvoyResources; diagnostics: Diagnostic[] }> {
  const input = await readManifests(opts.file);
  const snapshot = snapshotOf(input.objects);
  let result = translateStore(snapshot, opts.pipeline);
  // Documents the annotations ask for (OIDC discovery) are fetched once, bounded, then translated again.
  if (result.externalUrls?.length) {
    const docs = await fetchDocuments(result.externalUrls);
    result = translateStore({ ...snapshot, external: new Map(docs.map((d) => [d.url, d])) }, opts.pipeline);
  }
  return {
    resources: result.resources[opts.group]!,
    diagnostics: sortDiagnostics([...input.diagnostics, ...result.diagnostics]),
  };
}

function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  const errors = diagnostics.filter((d) => d.level === 'error').length;
  process.stderr.write(`${errors} error(s), ${diagnostics.length - errors} warning(s)\n`);
}

async function translateCommand(opts: TranslateCommandOptions): Promise<number> {
  const { resources, diagnostics } = await translateFiles(opts);
  // Loaded here: `serve` does not need the YAML writer.
  const { renderable, toJson, toYaml } = await import('./cli/render.js');
  const out = renderable(resources, diagnostics);
  process.stdout.write(opts.output === 'json' ? toJson(out) : toYaml(out));
  printDiagnostics(diagnostics);
  return 0;
}

async function validateCommand(opts: TranslateCommandOptions): Promise<number> {
  const { resources, diagnostics } = await translateFiles({ ...opts, group: 'envoy' });
  printDiagnostics(diagnostics);
  const { validateWithEnvoy } = await import('../../envoy/validate.js');
  const v = await validateWithEnvoy(resources);
  if (!v.ok) process.stderr.write(`envoy rejected the configuration:\n${v.message}\n`);
  else process.stderr.write('envoy accepted the configuration\n');
  return v.ok && !diagnostics.some((d) => d.level === 'error') ? 0 : 1;
}
