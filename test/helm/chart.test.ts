// The Helm chart (helm/xgate) rendered by the real helm CLI: `helm lint --strict` and
// `helm template` for several value sets, every rendered object validated against the
// Kubernetes schemas (kubernetes-validate, strict, Kubernetes 1.29 and 1.37), and the
// properties that matter checked one by one: replicas, probes, least-privilege RBAC,
// the Envoy bootstrap being envoy/bootstrap.yaml, admin on loopback, graceful drain,
// mTLS wiring.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseServe } from '../../control-plane/src/options.js';
import { repoRoot } from '../../envoy/binary.js';
import { CHART_DIR, find, helm, KUBE_VERSIONS, one, render, templateArgs, validateSchemas, type K8sObject, type RenderOptions, type SchemaResult } from './helm.js';

// ---- shapes read from the rendered objects -------------------------------------------

interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string };
  configMap?: { name: string };
  csi?: { driver: string; volumeAttributes: Record<string, string> };
}
interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: Volume[];
}
interface Deployment extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface RbacRole extends K8sObject {
  rules: Rule[];
}
interface Binding extends K8sObject {
  roleRef: { kind: string; name: string };
  subjects: { kind: string; name: string; namespace: string }[];
}
interface Service extends K8sObject {
  spec: { type: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] };
}

const NS = 'xgate-system';
const CONTROLLER = 'rel-xgate-controller';
const GATEWAY = 'rel-xgate-gateway';
const XDS_HOST = `rel-xgate-xds.${NS}.svc`;

const deployment = (objs: K8sObject[], name: string): Deployment => one(objs, 'Deployment', name) as Deployment;
const container = (d: Deployment): Container => d.spec.template.spec.containers[0]!;
const configMapData = (objs: K8sObject[]): Record<string, string> => (one(objs, 'ConfigMap', GATEWAY) as K8sObject & { data: Record<string, string> }).data;
const renderedBootstrap = (objs: K8sObject[]): Record<string, unknown> => parse(configMapData(objs)['bootstrap.yaml']!) as Record<string, unknown>;
const envFieldRef = (c: Container, name: string): string | undefined => c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;

/** Every rule of every (Cluster)Role, with where it applies. */
function rbacRules(objs: K8sObject[]): { scope: string; rule: Rule }[] {
  return [...find(objs, 'ClusterRole'), ...find(objs, 'Role')].flatMap((r) =>
    (r as RbacRole).rules.map((rule) => ({ scope: r.kind === 'ClusterRole' ? `cluster` : `ns/${r.metadata.namespace}`, rule })),
  );
}

/** "group/resource: verbs" lines, sorted, for exact comparisons. */
const ruleLines = (rules: Rule[]): string[] =>
  rules
    .flatMap((r) => r.resources.flatMap((res) => r.apiGroups.map((g) => `${g || 'core'}/${res}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}: ${[...r.verbs].sort().join(',')}`)))
    .sort();

const NAMESPACED_READ = [
  'core/events: create,patch',
  'core/pods/status: patch',
  'core/pods: list,watch',
  'core/secrets: list,watch',
  'core/services: list,watch',
  'discovery.k8s.io/endpointslices: list,watch',
  'networking.k8s.io/ingresses/status: update',
  'networking.k8s.io/ingresses: list,watch',
];

// ---- the value sets -----------------------------------------------------------------

const VARIANTS: Record<string, RenderOptions> = {
  default: {},
  'mTLS off': { set: { 'xds.tls.enabled': false } },
  watchNamespaces: { set: { watchNamespaces: ['team-a', 'team-b'] } },
  'ServiceMonitor on': { set: { 'serviceMonitor.enabled': true, 'serviceMonitor.labels': { release: 'prom' }, 'networkPolicy.adminFrom': [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] } },
  'cert-manager and csi-driver': {
    set: {
      'xds.tls.certManager.enabled': true,
      'xds.tls.certManager.issuerRef': { name: 'xgate-ca', kind: 'Issuer', group: 'cert-manager.io' },
      'xds.tls.clientCertificate.csi': { enabled: true, issuerName: 'xgate-ca', issuerKind: 'Issuer', duration: '24h' },
    },
  },
  'no autoscaling, ClusterIP gateway': { set: { 'gateway.autoscaling.enabled': false, 'gateway.replicas': 3, 'gateway.service.type': 'ClusterIP' } },
};

const rendered = new Map<string, K8sObject[]>();
const renderVariant = (name: string): K8sObject[] => {
  let objs = rendered.get(name);
  if (!objs) rendered.set(name, (objs = render(VARIANTS[name])));
  return objs;
};

/** Schema results of every variant, from one validator run (Python start-up and schema loading dominate). */
let schemaResults: Map<string, SchemaResult[]> | undefined;
function schemaResultsOf(name: string): SchemaResult[] {
  if (!schemaResults) {
    const names = Object.keys(VARIANTS);
    const all = names.flatMap((n) => renderVariant(n));
    const results = validateSchemas(all);
    schemaResults = new Map();
    let offset = 0;
    for (const n of names) {
      const count = renderVariant(n).length;
      schemaResults.set(n, results.filter((r) => r.index >= offset && r.index < offset + count).map((r) => ({ ...r, index: r.index - offset })));
      offset += count;
    }
  }
  return schemaResults.get(name)!;
}

/** Kinds with no schema in kubernetes-validate (CRDs): checked by hand below instead. */
const CRD_KINDS = new Set(['ServiceMonitor', 'Certificate']);

describe('helm lint', () => {
  it.each(Object.keys(VARIANTS))('%s: lint --strict passes', (name) => {
    const args = templateArgs(VARIANTS[name]).slice(3); // --namespace and --set-json flags
    const out = helm(['lint', '--strict', '.', ...args]);
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

describe('helm template: every object matches the Kubernetes schemas', () => {
  it.each(Object.keys(VARIANTS))('%s', (name) => {
    const objs = renderVariant(name);
    expect(objs.length).toBeGreaterThan(10);
    const results = schemaResultsOf(name);
    expect(results).toHaveLength(objs.length * KUBE_VERSIONS.length);
    const invalid = results.filter((r) => r.result === 'invalid').map((r) => `${objs[r.index]!.kind}/${objs[r.index]!.metadata.name} (k8s ${r.version}): ${r.path}: ${r.message}`);
    expect(invalid).toEqual([]);
    const noSchema = [...new Set(results.filter((r) => r.result === 'no-schema').map((r) => objs[r.index]!.kind))];
    expect(noSchema.filter((k) => !CRD_KINDS.has(k))).toEqual([]);
    // Every object is namespaced in the release namespace unless it is cluster-scoped or a watched-namespace Role.
    for (const o of objs) {
      if (['ClusterRole', 'ClusterRoleBinding', 'IngressClass'].includes(o.kind)) expect(o.metadata.namespace).toBeUndefined();
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toMatch(/^(xgate-system|team-a|team-b)$/);
      expect(o.metadata.name.length, o.metadata.name).toBeLessThanOrEqual(63);
    }
  });

  it('the schema check catches a misplaced field (strict mode works)', () => {
    const objs = structuredClone(renderVariant('default'));
    const d = deployment(objs, GATEWAY);
    (container(d) as unknown as Record<string, unknown>)['preStop'] = container(d).lifecycle!.preStop;
    const bad = validateSchemas([d]).filter((r) => r.result === 'invalid');
    expect(bad.map((r) => r.message)).toEqual(["Additional properties are not allowed ('preStop' was unexpected)", "Additional properties are not allowed ('preStop' was unexpected)"]);
  });
});

describe('control plane', () => {
  it('2 replicas, probes on /healthz and /readyz of the admin port, resources, non-root read-only rootfs', () => {
    const d = deployment(renderVariant('default'), CONTROLLER);
    const c = container(d);
    expect(d.spec.replicas).toBe(2);
    const adminPort = c.ports!.find((p) => p.name === 'admin')!.containerPort;
    expect(adminPort).toBe(18080);
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(c.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(c.resources!.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources!.limits!['memory']).toBeDefined();
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(one(renderVariant('default'), 'PodDisruptionBudget', CONTROLLER)).toMatchObject({ spec: { minAvailable: 1 } });
  });

  it('runs `xgate serve --kube` with leader election and publish-service flags that parseServe accepts', () => {
    const c = container(deployment(renderVariant('watchNamespaces'), CONTROLLER));
    expect(c.command).toEqual(['xgate']);
    expect(c.args!.slice(0, 2)).toEqual(['serve', '--kube']);
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--xds-address=0.0.0.0:18000',
        '--admin-address=0.0.0.0:18080',
        '--namespaces=team-a,team-b',
        `--publish-service=${NS}/${GATEWAY}`,
        `--election-namespace=${NS}`,
        '--election-id=rel-xgate-leader',
        '--pod-name=$(POD_NAME)',
        '--ingress-class=xgate',
        '--controller-name=xgate.io/ingress-controller',
      ]),
    );
    expect(envFieldRef(c, 'POD_NAME')).toBe('metadata.name');
    expect(envFieldRef(c, 'POD_NAMESPACE')).toBe('metadata.namespace');
    // The kubelet expands $(POD_NAME).
    const args = c.args!.slice(1).map((a) => a.replace('$(POD_NAME)', 'rel-xgate-controller-5b6f7c8d9-qwrtz'));
    const opts = parseServe(args, { POD_NAME: 'rel-xgate-controller-5b6f7c8d9-qwrtz', POD_NAMESPACE: NS, KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(opts.kube).toMatchObject({ namespaces: ['team-a', 'team-b'], publish: { kind: 'service', namespace: NS, name: GATEWAY }, election: { namespace: NS, id: 'rel-xgate-leader' } });
    expect(opts.xds).toEqual({ host: '0.0.0.0', port: 18000 });
  });

  it('the xDS Service is a ClusterIP to the xds port; the NetworkPolicy lets only gateway pods reach it', () => {
    const objs = renderVariant('default');
    const svc = one(objs, 'Service', 'rel-xgate-xds') as Service;
    expect(svc.spec.type).toBe('ClusterIP');
    expect(svc.spec.ports).toEqual([{ name: 'grpc-xds', port: 18000, targetPort: 'xds', protocol: 'TCP' }]);
    const np = one(objs, 'NetworkPolicy') as K8sObject & { spec: { ingress: { from: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: string }[] }[] } };
    expect(np.spec.ingress).toHaveLength(1);
    expect(np.spec.ingress[0]!.ports).toEqual([{ port: 'xds', protocol: 'TCP' }]);
    expect(np.spec.ingress[0]!.from[0]!.podSelector!.matchLabels).toEqual(deployment(objs, GATEWAY).spec.selector.matchLabels);
    // With adminFrom, the admin port opens to exactly those peers.
    const np2 = one(renderVariant('ServiceMonitor on'), 'NetworkPolicy') as typeof np;
    expect(np2.spec.ingress.map((r) => r.ports[0]!.port)).toEqual(['xds', 'admin']);
  });
});

describe('RBAC: least privilege', () => {
  it('no wildcard anywhere, and exactly the verbs needed (all namespaces)', () => {
    const objs = renderVariant('default');
    for (const { rule } of rbacRules(objs)) {
      for (const x of [...rule.verbs, ...rule.resources, ...rule.apiGroups]) expect(x).not.toContain('*');
    }
    expect(ruleLines((one(objs, 'ClusterRole', CONTROLLER) as RbacRole).rules)).toEqual(['networking.k8s.io/ingressclasses: list,watch', ...NAMESPACED_READ].sort());
    expect(ruleLines((one(objs, 'Role', `${CONTROLLER}-leader-election`) as RbacRole).rules)).toEqual([
      'coordination.k8s.io/leases: create',
      'coordination.k8s.io/leases[rel-xgate-leader]: get,update',
    ]);
    expect(find(objs, 'Role')).toHaveLength(1);
  });

  it('with watchNamespaces, Secrets and the rest are readable only in those namespaces', () => {
    const objs = renderVariant('watchNamespaces');
    expect(ruleLines((one(objs, 'ClusterRole', CONTROLLER) as RbacRole).rules)).toEqual(['networking.k8s.io/ingressclasses: list,watch']);
    const roles = find(objs, 'Role', CONTROLLER) as RbacRole[];
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['team-a', 'team-b']);
    for (const r of roles) expect(ruleLines(r.rules)).toEqual(NAMESPACED_READ);
    const bindings = find(objs, 'RoleBinding', CONTROLLER) as Binding[];
    expect(bindings.map((b) => b.metadata.namespace)).toEqual(['team-a', 'team-b']);
    // The release namespace is not watched: reading the gateway Service for Ingress status is granted there only.
    expect(ruleLines((one(objs, 'Role', `${CONTROLLER}-leader-election`) as RbacRole).rules)).toEqual([
      'coordination.k8s.io/leases: create',
      'coordination.k8s.io/leases[rel-xgate-leader]: get,update',
      'core/services: list,watch',
    ]);
    const clusterWide = rbacRules(objs).filter((r) => r.scope === 'cluster').flatMap((r) => r.rule.resources);
    expect(clusterWide).toEqual(['ingressclasses']);
  });

  it('binds only the control plane ServiceAccount; the gateway has no permissions and no token', () => {
    const objs = renderVariant('watchNamespaces');
    for (const b of [...find(objs, 'ClusterRoleBinding'), ...find(objs, 'RoleBinding')] as Binding[]) {
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: CONTROLLER, namespace: NS }]);
    }
    expect(deployment(objs, CONTROLLER).spec.template.spec.serviceAccountName).toBe(CONTROLLER);
    const gw = deployment(objs, GATEWAY).spec.template.spec;
    expect(gw.serviceAccountName).toBe(GATEWAY);
    expect(gw.automountServiceAccountToken).toBe(false);
    expect(one(objs, 'ServiceAccount', GATEWAY)).toMatchObject({ automountServiceAccountToken: false });
  });
});

describe('gateway (Envoy)', () => {
  it('its bootstrap is envoy/bootstrap.yaml except the xds_cluster address (STRICT_DNS to the xDS Service) and TLS', () => {
    const source = parse(readFileSync(join(repoRoot(), 'envoy', 'bootstrap.yaml'), 'utf8')) as Record<string, unknown>;
    for (const variant of ['default', 'mTLS off']) {
      const got = renderedBootstrap(renderVariant(variant));
      const xdsOf = (b: Record<string, unknown>) => (b['static_resources'] as { clusters: Record<string, unknown>[] }).clusters.find((c) => c['name'] === 'xds_cluster')!;
      const gotXds = xdsOf(got);
      expect(gotXds['type']).toBe('STRICT_DNS');
      expect(gotXds['load_assignment']).toEqual({
        cluster_name: 'xds_cluster',
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: XDS_HOST, port_value: 18000 } } } }] }],
      });
      expect(gotXds['transport_socket'] !== undefined).toBe(variant === 'default');
      // Take the templated fields away from both: the rest is identical.
      const strip = (b: Record<string, unknown>) => {
        const copy = structuredClone(b);
        const x = xdsOf(copy);
        for (const k of ['type', 'load_assignment', 'transport_socket']) delete x[k];
        return copy;
      };
      expect(strip(got)).toEqual(strip(source));
    }
  });

  it('gateway.clusterStats adds the stats_config of envoy/cluster-stats.yaml (nothing with all, the default); another value is refused', () => {
    const matchers = parse(readFileSync(join(repoRoot(), 'envoy', 'cluster-stats.yaml'), 'utf8')) as Record<string, unknown>;
    expect(renderedBootstrap(renderVariant('default'))['stats_config']).toBeUndefined();
    for (const mode of ['essential', 'none']) {
      expect(renderedBootstrap(render({ set: { 'gateway.clusterStats': mode } }))['stats_config']).toEqual({ stats_matcher: matchers[mode] });
    }
    expect(() => render({ set: { 'gateway.clusterStats': 'some' } })).toThrow(/clusterStats/);
  });

  it('admin stays on 127.0.0.1; Envoy runs with --service-node $(POD_NAME) from the downward API', () => {
    const objs = renderVariant('default');
    expect(renderedBootstrap(objs)['admin']).toEqual({ address: { socket_address: { address: '127.0.0.1', port_value: 19000 } } });
    const c = container(deployment(objs, GATEWAY));
    expect(c.command).toEqual(['envoy']);
    const args = c.args!;
    expect(args.slice(0, 2)).toEqual(['-c', '/etc/envoy/bootstrap.yaml']);
    expect(args[args.indexOf('--service-node') + 1]).toBe('$(POD_NAME)');
    expect(args[args.indexOf('--service-cluster') + 1]).toBe('xgate-gateway');
    expect(envFieldRef(c, 'POD_NAME')).toBe('metadata.name');
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'https', containerPort: 8443, protocol: 'TCP' },
    ]);
    // No Service or port exposes the admin port.
    for (const s of find(objs, 'Service') as Service[]) for (const p of s.spec.ports) expect(p.port).not.toBe(19000);
  });

  it('drains gracefully on shutdown: preStop calls admin /drain_listeners?graceful on loopback and waits the drain time', () => {
    const d = deployment(renderVariant('default'), GATEWAY);
    const c = container(d);
    const cmd = c.lifecycle!.preStop!.exec!.command;
    expect(cmd.slice(0, 2)).toEqual(['/bin/bash', '-c']);
    expect(cmd[2]).toContain('/dev/tcp/127.0.0.1/19000');
    expect(cmd[2]).toContain('POST /drain_listeners?graceful HTTP/1.1');
    expect(cmd[2]).toMatch(/sleep 30$/);
    expect(c.args![c.args!.indexOf('--drain-time-s') + 1]).toBe('30');
    expect(c.args![c.args!.indexOf('--drain-strategy') + 1]).toBe('gradual');
    expect(d.spec.template.spec.terminationGracePeriodSeconds).toBe(45);
    expect(c.readinessProbe!.tcpSocket).toEqual({ port: 'http' });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(d.spec.template.metadata.annotations!['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('HPA and PDB target the gateway; without HPA the Deployment has fixed replicas', () => {
    const objs = renderVariant('default');
    const d = deployment(objs, GATEWAY);
    expect(d.spec.replicas).toBeUndefined();
    expect(one(objs, 'HorizontalPodAutoscaler', GATEWAY)).toMatchObject({
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: GATEWAY }, minReplicas: 2, maxReplicas: 10 },
    });
    expect(one(objs, 'PodDisruptionBudget', GATEWAY)).toMatchObject({ spec: { maxUnavailable: 1, selector: { matchLabels: d.spec.selector.matchLabels } } });
    const fixed = renderVariant('no autoscaling, ClusterIP gateway');
    expect(deployment(fixed, GATEWAY).spec.replicas).toBe(3);
    expect(find(fixed, 'HorizontalPodAutoscaler')).toEqual([]);
    expect((one(fixed, 'Service', GATEWAY) as Service).spec).not.toHaveProperty('externalTrafficPolicy');
  });

  it('the gateway Service is a LoadBalancer 80/443 to Envoy 8080/8443; the IngressClass names the controller', () => {
    const objs = renderVariant('default');
    const svc = one(objs, 'Service', GATEWAY) as Service;
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
    ]);
    expect(one(objs, 'IngressClass', 'xgate')).toMatchObject({ spec: { controller: 'xgate.io/ingress-controller' } });
  });
});

describe('selectors and references', () => {
  it.each(Object.keys(VARIANTS))('%s: every selector matches its pods, every named port and volume exists', (name) => {
    const objs = renderVariant(name);
    const pods = (find(objs, 'Deployment') as Deployment[]).map((d) => ({ d, labels: d.spec.template.metadata.labels }));
    const matches = (sel: Record<string, string>) => pods.filter((p) => Object.entries(sel).every(([k, v]) => p.labels[k] === v));
    for (const d of pods) {
      expect(matches(d.d.spec.selector.matchLabels).map((p) => p.d.metadata.name)).toEqual([d.d.metadata.name]);
      const spec = d.d.spec.template.spec;
      for (const c of spec.containers) {
        for (const m of c.volumeMounts ?? []) expect(spec.volumes?.map((v) => v.name)).toContain(m.name);
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (typeof port === 'string') expect(c.ports?.map((p) => p.name)).toContain(port);
        }
      }
      for (const v of spec.volumes ?? []) if (v.configMap) expect(find(objs, 'ConfigMap', v.configMap.name)).toHaveLength(1);
    }
    for (const s of find(objs, 'Service') as Service[]) {
      const targets = matches(s.spec.selector);
      expect(targets, s.metadata.name).toHaveLength(1);
      for (const p of s.spec.ports) expect(targets[0]!.d.spec.template.spec.containers[0]!.ports!.map((x) => x.name)).toContain(p.targetPort);
    }
  });
});

describe('xDS mTLS in the chart', () => {
  it('on (default): the control plane gets CA/cert/key flags from its Secret; Envoy gets a TLS 1.3 client context', () => {
    const objs = renderVariant('default');
    const cp = deployment(objs, CONTROLLER);
    expect(container(cp).args).toEqual(
      expect.arrayContaining(['--xds-tls-ca=/etc/xgate/xds-tls/ca.crt', '--xds-tls-cert=/etc/xgate/xds-tls/tls.crt', '--xds-tls-key=/etc/xgate/xds-tls/tls.key', '--xds-tls-trust-domain=xgate']),
    );
    expect(cp.spec.template.spec.volumes!.find((v) => v.name === 'xds-tls')!.secret).toMatchObject({ secretName: 'rel-xgate-xds-server-tls' });
    expect(container(cp).volumeMounts).toContainEqual({ name: 'xds-tls', mountPath: '/etc/xgate/xds-tls', readOnly: true });
    const gw = deployment(objs, GATEWAY);
    expect(gw.spec.template.spec.volumes!.find((v) => v.name === 'xds-tls')!.secret).toMatchObject({ secretName: 'rel-xgate-xds-client-tls' });
    const data = configMapData(objs);
    const ts = (renderedBootstrap(objs)['static_resources'] as { clusters: Record<string, unknown>[] }).clusters[0]!['transport_socket'] as { typed_config: Record<string, unknown> };
    expect(ts.typed_config).toMatchObject({ sni: XDS_HOST, common_tls_context: { tls_params: { tls_minimum_protocol_version: 'TLSv1_3' }, alpn_protocols: ['h2'] } });
    expect(parse(data['xds-trusted-ca.yaml']!)).toMatchObject({
      resources: [{ name: 'xds_trusted_ca', validation_context: { trusted_ca: { filename: '/etc/xgate/xds-tls/ca.crt' }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: XDS_HOST } }] } }],
    });
    expect(parse(data['xds-client-certificate.yaml']!)).toMatchObject({
      resources: [{ name: 'xds_client_certificate', tls_certificate: { certificate_chain: { filename: '/etc/xgate/xds-tls/tls.crt' }, watched_directory: { path: '/etc/xgate/xds-tls' } } }],
    });
  });

  it('off: no TLS flags, no certificate volumes, no TLS in the bootstrap', () => {
    const objs = renderVariant('mTLS off');
    expect(container(deployment(objs, CONTROLLER)).args!.filter((a) => a.startsWith('--xds-tls'))).toEqual([]);
    for (const d of find(objs, 'Deployment') as Deployment[]) expect(d.spec.template.spec.volumes!.map((v) => v.name)).not.toContain('xds-tls');
    expect(Object.keys(configMapData(objs))).toEqual(['bootstrap.yaml']);
  });

  it('cert-manager Certificates carry the identities the control plane checks; csi-driver issues per-pod ones', () => {
    const objs = renderVariant('cert-manager and csi-driver');
    const certs = find(objs, 'Certificate') as (K8sObject & { spec: Record<string, unknown> })[];
    // With csi-driver only the server certificate is a Certificate.
    expect(certs.map((c) => c.metadata.name)).toEqual(['rel-xgate-xds-server-tls']);
    expect(certs[0]!.spec).toMatchObject({ secretName: 'rel-xgate-xds-server-tls', dnsNames: [XDS_HOST, `${XDS_HOST}.cluster.local`], usages: ['server auth', 'digital signature', 'key encipherment'] });
    const vol = deployment(objs, GATEWAY).spec.template.spec.volumes!.find((v) => v.name === 'xds-tls')!;
    expect(vol.csi).toMatchObject({ driver: 'csi.cert-manager.io', volumeAttributes: { 'csi.cert-manager.io/uri-sans': 'spiffe://xgate/gateway/${POD_NAME}', 'csi.cert-manager.io/issuer-name': 'xgate-ca' } });
    // Without csi-driver: one client Certificate for the Deployment's pods.
    const shared = render({ set: { 'xds.tls.certManager.enabled': true, 'xds.tls.certManager.issuerRef': { name: 'xgate-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } } });
    const client = one(shared, 'Certificate', 'rel-xgate-xds-client-tls') as K8sObject & { spec: Record<string, unknown> };
    expect(client.spec).toMatchObject({ uris: [`spiffe://xgate/deployment/${GATEWAY}`], usages: ['client auth', 'digital signature', 'key encipherment'], issuerRef: { kind: 'ClusterIssuer' } });
  });

  it('refuses incomplete settings loudly', () => {
    expect(() => render({ set: { 'xds.tls.certManager.enabled': true } })).toThrow(/xds.tls.certManager.enabled needs xds.tls.certManager.issuerRef.name/);
    expect(() => render({ set: { 'xds.tls.clientCertificate.csi.enabled': true } })).toThrow(/needs xds.tls.clientCertificate.csi.issuerName/);
    expect(() => render({ set: { 'gateway.terminationGracePeriodSeconds': 10 } })).toThrow(/must exceed gateway.drain.seconds/);
    expect(() => render({ set: { 'gateway.bogus': 1 } })).toThrow(/additional properties 'bogus' not allowed/);
  });

  it('keeps the gateway Deployment name short enough for untruncated pod names (node id = pod name)', () => {
    const objs = render({ release: 'a-very-long-release-name-for-a-gateway-that-goes-on' });
    const name = find(objs, 'Deployment').map((d) => d.metadata.name).find((n) => n.endsWith('-gateway'))!;
    expect(name.length).toBeLessThanOrEqual(46);
  });
});

describe('ServiceMonitor (off by default)', () => {
  it('is absent by default and, when on, scrapes /metrics on the admin port of a metrics Service', () => {
    expect(find(renderVariant('default'), 'ServiceMonitor')).toEqual([]);
    const objs = renderVariant('ServiceMonitor on');
    const sm = one(objs, 'ServiceMonitor', CONTROLLER) as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    expect(sm.metadata.labels).toMatchObject({ release: 'prom' });
    expect(sm.spec.endpoints).toEqual([{ port: 'admin', path: '/metrics', interval: '30s' }]);
    const svcs = (find(objs, 'Service') as Service[]).filter((s) => Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
    expect(svcs.map((s) => s.metadata.name)).toEqual([`${CONTROLLER}-metrics`]);
    expect(svcs[0]!.spec.ports.map((p) => p.name)).toEqual(['admin']);
  });
});

it('the chart directory holds the bootstrap as a link to envoy/bootstrap.yaml (one source)', async () => {
  const { readlinkSync } = await import('node:fs');
  expect(readlinkSync(join(CHART_DIR, 'files', 'bootstrap.yaml'))).toBe('../../../envoy/bootstrap.yaml');
});
