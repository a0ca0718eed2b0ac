// Validates generated xDS resources with the real Envoy binary: they are folded into a
// static bootstrap and checked with `envoy --mode validate`, which builds every
// listener, route table, cluster and secret as a running Envoy would (regexes compiled,
// extensions instantiated, Wasm modules loaded) without binding sockets or connecting.
//
// The folding:
// - listeners → static_resources.listeners; each HttpConnectionManager `rds` is replaced
//   by the RouteConfiguration of that route_config_name, inline (`route_config`); scoped
//   routes by SRDS (route shards) become the scopes inline, each with its route
//   configuration inline;
// - RouteConfigurations that no validated listener names (e.g. those of API listeners)
//   still get validated, each in a synthetic listener named `xgate-validate-route:<name>`;
// - clusters → static_resources.clusters; `type: EDS` becomes STATIC (STRICT_DNS when an
//   endpoint address is not an IP) with the matching ClusterLoadAssignment inline as
//   `load_assignment` (empty when there is none);
// - secrets → static_resources.secrets, and every SDS reference that points at ADS
//   (`{ name, sds_config: { ads: {} } }`) loses its sds_config: an SdsSecretConfig with
//   only a name refers to a static secret (so a missing secret fails validation);
// - API listeners (`api_listener`, for proxyless gRPC clients) are left out: a bootstrap
//   may hold at most one API listener, and Envoy does not serve them.
// The bootstrap keeps envoy/bootstrap.yaml's ADS config, xds_cluster, overload manager
// and runtime, so leftover `ads: {}` config sources are accepted as they are in a pod.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { EnvoyResources } from '../control-plane/src/translate/resources.js';
import { envoyBinary } from './binary.js';
import { renderBootstrap } from './runner.js';

export type { EnvoyResources };

export interface ValidateOptions {
  /** Kill Envoy after this long. Default 60 s. */
  readonly timeoutMs?: number;
  /** Keep the temp dir (bootstrap.yaml) for inspection; its path is in the result. */
  readonly keepDir?: boolean;
  /** Parent of the temp dir. Default os.tmpdir(). */
  readonly workDir?: string;
}

export interface ValidateResult {
  readonly ok: boolean;
  /** Envoy's reason on failure (e.g. "error adding listener: 'b' has duplicate address …"); "OK" otherwise. */
  readonly message: string;
  /** Everything Envoy printed. */
  readonly output: string;
  readonly durationMs: number;
  /** Set when keepDir. */
  readonly configFile?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const SYNTHETIC_PREFIX = 'xgate-validate-route:';

/** Drops a top-level "@type" (a resource as it would sit in an Any); static_resources take the bare message. */
function bare(r: Obj): Obj {
  const { ['@type']: _t, ...rest } = clone(r);
  return rest;
}

/** Calls `fn` on every object in the tree (pre-order). */
function walk(v: unknown, fn: (o: Obj) => void): void {
  if (Array.isArray(v)) {
    for (const x of v) walk(x, fn);
  } else if (isObj(v)) {
    fn(v);
    for (const x of Object.values(v)) walk(x, fn);
  }
}

/** SdsSecretConfig `{ name, sds_config: { ads } }` → `{ name }` (a static secret). */
function staticSecretRefs(tree: unknown): void {
  walk(tree, (o) => {
    const sds = o['sds_config'];
    if (typeof o['name'] === 'string' && isObj(sds) && 'ads' in sds) delete o['sds_config'];
  });
}

class FoldError extends Error {}

/** The static bootstrap validateWithEnvoy() checks. Exported for tests and debugging. */
export function buildValidationBootstrap(resources: EnvoyResources): Obj {
  const routes = new Map<string, Obj>();
  for (const r of resources.routes) {
    const name = r['name'];
    if (typeof name !== 'string') throw new FoldError('a RouteConfiguration has no name');
    if (routes.has(name)) throw new FoldError(`duplicate RouteConfiguration name ${JSON.stringify(name)}`);
    routes.set(name, bare(r as Obj));
  }
  const loadAssignments = new Map<string, Obj>();
  for (const e of resources.endpoints) {
    const name = e['cluster_name'];
    if (typeof name !== 'string') throw new FoldError('a ClusterLoadAssignment has no cluster_name');
    if (loadAssignments.has(name)) throw new FoldError(`duplicate ClusterLoadAssignment for ${JSON.stringify(name)}`);
    loadAssignments.set(name, bare(e as Obj));
  }

  const usedRoutes = new Set<string>();
  const usedPorts = new Set<number>();
  const listeners: Obj[] = [];
  for (const l of resources.listeners) {
    if ('api_listener' in l) continue; // at most one per bootstrap, and Envoy does not serve them
    const listener = bare(l as Obj);
    const lname = String(listener['name']);
    walk(listener, (o) => {
      const sa = o['socket_address'];
      if (isObj(sa) && typeof sa['port_value'] === 'number') usedPorts.add(sa['port_value']);
      if (o['@type'] === HCM_TYPE && isObj(o['scoped_routes']) && isObj(o['scoped_routes']['scoped_rds'])) {
        // Scoped routes by SRDS: the scopes inline, each with its route configuration inline.
        const sr = o['scoped_routes'];
        delete sr['scoped_rds'];
        sr['scoped_route_configurations_list'] = {
          scoped_route_configurations: (resources.scopedRoutes ?? []).map((s) => {
            const { route_configuration_name: rcName, ...scope } = bare(s as Obj);
            const rc = typeof rcName === 'string' ? routes.get(rcName) : undefined;
            if (!rc) throw new FoldError(`scope ${JSON.stringify(scope['name'])} names RouteConfiguration ${JSON.stringify(rcName)}, which is not among the routes`);
            usedRoutes.add(rcName as string);
            return { ...scope, route_configuration: clone(rc) };
          }),
        };
        return;
      }
      if (o['@type'] !== HCM_TYPE || !isObj(o['rds'])) return;
      const rcName = o['rds']['route_config_name'];
      const rc = typeof rcName === 'string' ? routes.get(rcName) : undefined;
      if (!rc) throw new FoldError(`listener ${JSON.stringify(lname)} names RouteConfiguration ${JSON.stringify(rcName)}, which is not among the routes (Envoy would wait for it forever)`);
      usedRoutes.add(rcName as string);
      delete o['rds'];
      o['route_config'] = clone(rc);
    });
    listeners.push(listener);
  }
  // Route configurations no listener above names: validate each in a listener of its own.
  let port = 65535;
  for (const [name, rc] of routes) {
    if (usedRoutes.has(name)) continue;
    while (usedPorts.has(port)) port--;
    usedPorts.add(port);
    listeners.push({
      name: `${SYNTHETIC_PREFIX}${name}`,
      address: { socket_address: { address: '127.0.0.1', port_value: port } },
      filter_chains: [
        {
          filters: [
            {
              name: 'envoy.filters.network.http_connection_manager',
              typed_config: {
                '@type': HCM_TYPE,
                stat_prefix: 'xgate_validate',
                route_config: clone(rc),
                http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } }],
              },
            },
          ],
        },
      ],
    });
  }

  const clusters: Obj[] = resources.clusters.map((c) => {
    const cluster = bare(c as Obj);
    if (cluster['type'] !== 'EDS') return cluster;
    const edsConfig = cluster['eds_cluster_config'];
    const serviceName = isObj(edsConfig) && typeof edsConfig['service_name'] === 'string' ? edsConfig['service_name'] : String(cluster['name']);
    const cla = loadAssignments.get(serviceName);
    const assignment: Obj = cla ? clone(cla) : { cluster_name: serviceName, endpoints: [] };
    let allIps = true;
    walk(assignment, (o) => {
      const sa = o['socket_address'];
      if (isObj(sa) && typeof sa['address'] === 'string' && isIP(sa['address']) === 0) allIps = false;
    });
    delete cluster['eds_cluster_config'];
    cluster['type'] = allIps ? 'STATIC' : 'STRICT_DNS';
    cluster['load_assignment'] = assignment;
    return cluster;
  });
  const secrets = resources.secrets.map((s) => bare(s as Obj));
  staticSecretRefs(listeners);
  staticSecretRefs(clusters);

  // Start from the pod bootstrap: runtime, overload manager, ADS config and xds_cluster.
  const boot = renderBootstrap({ xdsPort: 18000 });
  const dyn = boot['dynamic_resources'];
  if (isObj(dyn)) boot['dynamic_resources'] = { ads_config: dyn['ads_config'] };
  delete boot['admin'];
  const statics = isObj(boot['static_resources']) ? boot['static_resources'] : {};
  const baseClusters = (Array.isArray(statics['clusters']) ? statics['clusters'] : []).filter(
    (c) => !clusters.some((g) => isObj(c) && g['name'] === c['name']),
  );
  boot['static_resources'] = { listeners, clusters: [...baseClusters, ...clusters], secrets };
  return boot;
}

/** Envoy's reason, from "error initializing configuration '<file>': <reason>" when present. */
function reasonOf(output: string, file: string): string {
  const marker = /error initializing configuration '[^']*':\s*/.exec(output);
  const text = marker ? output.slice(marker.index + marker[0].length) : output;
  return text.split(file).join('<bootstrap>').trim() || 'envoy --mode validate failed without a message';
}

/** Runs `envoy --mode validate` on a whole bootstrap (an object in the proto3 JSON mapping). */
export async function validateBootstrap(bootstrap: object, opts: ValidateOptions = {}): Promise<ValidateResult> {
  const bin = envoyBinary();
  const dir = await mkdtemp(join(opts.workDir ?? tmpdir(), 'xgate-validate-'));
  const file = join(dir, 'bootstrap.yaml');
  const started = Date.now();
  try {
    // Every string double-quoted: Envoy's YAML loader reads plain scalars like `on`,
    // `yes` or `1e3` as booleans and numbers (YAML 1.1), which would corrupt strings.
    await writeFile(file, stringify(bootstrap, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 }));
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const args = ['--mode', 'validate', '-c', file, '--log-level', 'error', '--service-node', 'xgate-validate', '--service-cluster', 'xgate-validate', '--concurrency', '1'];
    const { code, output, timedOut } = await new Promise<{ code: number | null; output: string; timedOut: boolean }>((resolve) => {
      execFile(bin, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          output: `${stdout}${stderr}`,
          timedOut: Boolean(e?.killed && e.signal === 'SIGKILL'),
        });
      });
    });
    const durationMs = Date.now() - started;
    const keep = opts.keepDir ? { configFile: file } : {};
    if (timedOut) return { ok: false, message: `envoy --mode validate timed out after ${timeoutMs} ms`, output, durationMs, ...keep };
    if (code === 0) return { ok: true, message: 'OK', output, durationMs, ...keep };
    return { ok: false, message: reasonOf(output, file), output, durationMs, ...keep };
  } finally {
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Validates generated resources with the real Envoy (see the top of this file for how
 * they are folded into a static bootstrap). Never throws for bad resources: returns
 * `{ ok: false, message }` with Envoy's reason (or ours, prefixed `xgate:`, when the
 * resources cannot even be folded, e.g. an RDS name with no RouteConfiguration).
 * Throws only when Envoy itself is missing.
 */
export async function validateWithEnvoy(resources: EnvoyResources, opts: ValidateOptions = {}): Promise<ValidateResult> {
  let boot: Obj;
  try {
    boot = buildValidationBootstrap(resources);
  } catch (err) {
    if (!(err instanceof FoldError)) throw err;
    envoyBinary(); // a missing Envoy is still an error, not a validation result
    return { ok: false, message: `xgate: ${err.message}`, output: '', durationMs: 0 };
  }
  return validateBootstrap(boot, opts);
}
