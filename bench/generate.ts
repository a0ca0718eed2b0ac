// Synthetic cluster state for the benchmarks: N Ingresses in a realistic mix
// (benchmarks.md, B1) with the Services, EndpointSlices and TLS Secrets they name.
// Deterministic for a given seed, and clean: every backend resolves, every
// certificate is valid and every canary has its primary, so a translation of it
// produces no error diagnostics.
import type { EndpointSlice, Ingress, IngressClass, IngressRule, Secret, Service, WatchedObject } from '../control-plane/src/sources/k8s-types.js';
import { SERVICE_NAME_LABEL } from '../control-plane/src/sources/k8s-types.js';
import type { BenchCert } from './cert.js';

export interface GenerateOptions {
  readonly ingresses: number;
  readonly cert: BenchCert;
  /** Namespaces the Ingresses are spread over (default 20). */
  readonly namespaces?: number;
  readonly seed?: number;
  /** Share of Ingresses with a TLS section (default 0.5). Each has its own Secret holding the shared certificate. */
  readonly tlsShare?: number;
  /**
   * Share of the Ingresses that are canaries (default 1/3): each is the nginx canary
   * of an earlier primary in the same namespace (same hosts, paths and pathTypes, its
   * own canary Service), with the primary's annotations copied as Kruise Rollout does.
   */
  readonly canaryShare?: number;
  /** Share of Ingresses carrying auth / IP allow-list annotations (default 0.2). */
  readonly authShare?: number;
}

export type IngressRole = 'primary' | 'primary-with-canary' | 'canary';

export interface Generated {
  readonly objects: WatchedObject[];
  readonly ingresses: Ingress[];
  /** The role of each Ingress (same index as `ingresses`). */
  readonly roles: IngressRole[];
  readonly counts: {
    readonly namespaces: number;
    readonly ingresses: number;
    readonly hosts: number;
    readonly wildcardHosts: number;
    readonly paths: number;
    readonly tlsIngresses: number;
    readonly canaryIngresses: number;
    readonly authAnnotated: number;
    readonly services: number;
    readonly endpointSlices: number;
    readonly endpoints: number;
    readonly secrets: number;
  };
}

export const BENCH_CLASS = 'xgate';
export const BENCH_DOMAIN = 'bench.example';

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
function between(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

const PATHS = ['/', '/api', '/api/v1', '/api/v2', '/static', '/assets', '/login', '/logout', '/healthz', '/metrics', '/graphql', '/ws', '/admin', '/docs', '/images', '/upload'];
const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const EPOCH = Date.parse('2024-01-01T00:00:00Z');

export function generate(opts: GenerateOptions): Generated {
  const r = rng(opts.seed ?? 1);
  const nsCount = opts.namespaces ?? 20;
  const tlsShare = opts.tlsShare ?? 0.5;
  const canaryShare = opts.canaryShare ?? 1 / 3;
  const authShare = opts.authShare ?? 0.2;
  const certB64 = Buffer.from(opts.cert.cert).toString('base64');
  const keyB64 = Buffer.from(opts.cert.key).toString('base64');
  let rv = 1000;
  const nextRv = () => String(rv++);

  const objects: WatchedObject[] = [];
  const ingresses: Ingress[] = [];
  const roles: IngressRole[] = [];
  /** Indexes of primaries that have no canary yet (the newest is taken first). */
  const open: number[] = [];
  const counts = { namespaces: nsCount, ingresses: 0, hosts: 0, wildcardHosts: 0, paths: 0, tlsIngresses: 0, canaryIngresses: 0, authAnnotated: 0, services: 0, endpointSlices: 0, endpoints: 0, secrets: 0 };

  const cls: IngressClass = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: BENCH_CLASS, resourceVersion: nextRv() },
    spec: { controller: 'xgate.io/ingress-controller' },
  };
  objects.push(cls);

  const addService = (ns: string, app: string, svcName: string, i: number, s: number): void => {
    const extraPort = r() < 0.2;
    const svc: Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svcName, namespace: ns, resourceVersion: nextRv(), labels: { app } },
      spec: {
        type: 'ClusterIP',
        clusterIP: `172.20.${(i >> 8) & 255}.${(i * 3 + s) & 255}`,
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          ...(extraPort ? [{ name: 'metrics', port: 9090, targetPort: 9090, protocol: 'TCP' }] : []),
        ],
      },
    };
    objects.push(svc);
    counts.services++;
    const epCount = between(r, 1, 3);
    const slice: EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${svcName}-${(i * 7919 + s).toString(36).padStart(5, '0').slice(-5)}`, namespace: ns, resourceVersion: nextRv(), labels: { [SERVICE_NAME_LABEL]: svcName } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: epCount }, (_, e) => {
        const n = (i * 9 + s * 3 + e) >>> 0;
        return {
          addresses: [`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: `node-${n % 50}`,
          zone: pick(r, ZONES),
          targetRef: { kind: 'Pod', namespace: ns, name: `${svcName}-pod-${e}` },
        };
      }),
      ports: [
        { name: 'http', port: 8080, protocol: 'TCP' },
        ...(extraPort ? [{ name: 'metrics', port: 9090, protocol: 'TCP' }] : []),
      ],
    };
    objects.push(slice);
    counts.endpointSlices++;
    counts.endpoints += epCount;
  };
  const created = (i: number) => new Date(EPOCH + i * 60_000 + between(r, 0, 59) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

  for (let i = 0; i < opts.ingresses; i++) {
    if (open.length && r() < canaryShare) {
      const pi = open.pop()!;
      const primary = ingresses[pi]!;
      roles[pi] = 'primary-with-canary';
      const ns = primary.metadata.namespace!;
      const app = `${primary.metadata.name}-canary`;
      const svcName = `${app}-svc`;
      addService(ns, app, svcName, i, 0);
      const annotations: Record<string, string> = {
        ...primary.metadata.annotations,
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': String(between(r, 1, 50)),
      };
      if (r() < 0.5) annotations['nginx.ingress.kubernetes.io/canary-by-header'] = 'x-canary';
      const canary: Ingress = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: {
          name: app,
          namespace: ns,
          uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
          resourceVersion: nextRv(),
          generation: 1,
          creationTimestamp: created(i),
          labels: { ...primary.metadata.labels },
          annotations,
        },
        spec: {
          ingressClassName: BENCH_CLASS,
          rules: primary.spec!.rules!.map((rule) => ({
            host: rule.host!,
            http: { paths: rule.http!.paths.map((p) => ({ path: p.path!, pathType: p.pathType!, backend: { service: { name: svcName, port: { number: 80 } } } })) },
          })),
        },
      };
      objects.push(canary);
      ingresses.push(canary);
      roles.push('canary');
      counts.canaryIngresses++;
      counts.ingresses++;
      continue;
    }
    const ns = `team-${String(i % nsCount).padStart(2, '0')}`;
    const app = `app-${i}`;

    // 1–3 Services, each with 1–3 ready endpoints.
    const services: string[] = [];
    const serviceCount = between(r, 1, 3);
    for (let s = 0; s < serviceCount; s++) {
      const svcName = `${app}-svc${s}`;
      services.push(svcName);
      addService(ns, app, svcName, i, s);
    }

    // 1–3 hosts, each with 2–5 distinct paths.
    const hostCount = between(r, 1, 3);
    const hosts: string[] = [];
    const rules: IngressRule[] = [];
    for (let h = 0; h < hostCount; h++) {
      const wildcard = h === 0 && r() < 0.03;
      const host = wildcard ? `*.${app}.${ns}.${BENCH_DOMAIN}` : `${h === 0 ? 'www' : `h${h}`}.${app}.${ns}.${BENCH_DOMAIN}`;
      if (wildcard) counts.wildcardHosts++;
      hosts.push(host);
      const pool = [...PATHS];
      const pathCount = between(r, 2, 5);
      const paths = [];
      for (let p = 0; p < pathCount; p++) {
        const path = pool.splice(Math.floor(r() * pool.length), 1)[0]!;
        const t = r();
        const pathType = t < 0.7 ? 'Prefix' : t < 0.9 ? 'Exact' : 'ImplementationSpecific';
        const byName = r() < 0.2;
        paths.push({
          path,
          pathType,
          backend: { service: { name: pick(r, services), port: byName ? { name: 'http' } : { number: 80 } } },
        });
      }
      counts.paths += pathCount;
      rules.push({ host, http: { paths } });
    }
    counts.hosts += hostCount;

    const annotations: Record<string, string> = {
      'meta.helm.sh/release-name': app,
      'meta.helm.sh/release-namespace': ns,
    };
    // Not implemented yet: no effect on the output beyond an XG_ANNOTATION_UNKNOWN warning each.
    if (r() < authShare) {
      counts.authAnnotated++;
      if (r() < 0.5) {
        annotations['nginx.ingress.kubernetes.io/auth-url'] = `http://oauth2-proxy.${ns}.svc.cluster.local/oauth2/auth`;
        annotations['nginx.ingress.kubernetes.io/auth-signin'] = `https://auth.${BENCH_DOMAIN}/oauth2/start`; // xgate appends rd=<original URL> itself
      } else {
        annotations['nginx.ingress.kubernetes.io/whitelist-source-range'] = '10.0.0.0/8,192.168.0.0/16';
      }
    }

    const tls = r() < tlsShare;
    const ingress: Ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: app,
        namespace: ns,
        uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
        resourceVersion: nextRv(),
        generation: 1,
        creationTimestamp: created(i),
        labels: { app, 'app.kubernetes.io/managed-by': 'Helm' },
        annotations,
      },
      spec: {
        ingressClassName: BENCH_CLASS,
        rules,
        ...(tls ? { tls: [{ hosts: [...hosts], secretName: `${app}-tls` }] } : {}),
      },
    };
    if (tls) {
      counts.tlsIngresses++;
      const secret: Secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name: `${app}-tls`, namespace: ns, resourceVersion: nextRv() },
        data: { 'tls.crt': certB64, 'tls.key': keyB64 },
      };
      objects.push(secret);
      counts.secrets++;
    }
    objects.push(ingress);
    open.push(ingresses.length);
    ingresses.push(ingress);
    roles.push('primary');
    counts.ingresses++;
  }
  return { objects, ingresses, roles, counts };
}

export type ChangeKind = 'path' | 'backend' | 'add-path' | 'canary-weight';
export const CHANGE_KINDS: readonly ChangeKind[] = ['path', 'backend', 'add-path', 'canary-weight'];

/** The Ingresses a change kind applies to: canary weights on canaries, the rest on primaries without a canary (so no canary loses its primary). */
export function changeTargets(gen: Pick<Generated, 'roles'>, kind: ChangeKind): number[] {
  const want: IngressRole = kind === 'canary-weight' ? 'canary' : 'primary';
  const out: number[] = [];
  gen.roles.forEach((role, i) => {
    if (role === want) out.push(i);
  });
  return out;
}

let changeRv = 1_000_000_000;

/**
 * A modified copy of an Ingress (new resourceVersion), as an edit through the API
 * would give: a path renamed, a backend switched, a path added, or (on a canary) a
 * new canary-weight, as a Kruise Rollout step does. Every kind changes the routes of one host.
 */
export function modifyIngress(ing: Ingress, kind: ChangeKind, step: number): Ingress {
  const next = structuredClone(ing);
  next.metadata.resourceVersion = String(changeRv++);
  next.metadata.generation = (next.metadata.generation ?? 1) + 1;
  const rule = next.spec!.rules![0]!;
  const paths = rule.http!.paths;
  switch (kind) {
    case 'canary-weight': {
      const annotations = (next.metadata.annotations ??= {});
      const key = 'nginx.ingress.kubernetes.io/canary-weight';
      annotations[key] = String(((Number(annotations[key] ?? 0) + 13 + (step % 7)) % 100) + 1);
      break;
    }
    case 'path':
      paths[0]!.path = `/changed-${step}`;
      paths[0]!.pathType = 'Prefix';
      break;
    case 'backend': {
      // Switch between port-by-number and port-by-name of the same Service: a new route
      // only if the cluster changes, so also flip to the path's sibling Service when there is one.
      const svc = paths[0]!.backend.service!;
      const sibling = paths.map((p) => p.backend.service!.name).find((n) => n !== svc.name);
      paths[0]!.backend = { service: { name: sibling ?? svc.name, port: { number: 80 } } };
      if (!sibling) paths[0]!.path = `/moved-${step}`;
      break;
    }
    case 'add-path':
      paths.push({ path: `/added-${step}`, pathType: 'Exact', backend: { service: { name: paths[0]!.backend.service!.name, port: { number: 80 } } } });
      break;
  }
  return next;
}
