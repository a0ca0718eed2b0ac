// Proxyless gRPC clients share the route configuration: the access per-filter configs
// (RBACPerRoute, LocalRateLimit, the WAF switch, all wrapped in FilterConfig with
// is_optional) and the route's rate_limits must not make @grpc/grpc-js-xds reject RDS;
// nor must a virtual host holding another Ingress's Basic auth config with the echo
// route keeping it off (translate/hoist-filter-configs.ts).
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGRESS_CLASS_YAML, ingressYaml, testControlPlane, type TestControlPlane } from '../helpers/control-plane.js';
import { echo, startGrpcEcho, type GrpcEcho } from '../helpers/grpc-echo.js';

const HOST = 'echo.grpc.test';
const BOOTSTRAP_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';

describe('@grpc/grpc-js-xds with access policies on its route', () => {
  let a: GrpcEcho;
  let t: TestControlPlane;
  let client: grpc.Client;

  beforeAll(async () => {
    grpcXds.register();
    a = await startGrpcEcho({ name: 'a', host: '127.0.0.2' });
    t = await testControlPlane({
      '00-class.yaml': INGRESS_CLASS_YAML,
      '10-echo.yaml': `apiVersion: v1
kind: Service
metadata: { name: echo, namespace: default }
spec:
  ports: [{ name: grpc, port: 50051 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: echo-a, namespace: default, labels: { kubernetes.io/service-name: echo } }
addressType: IPv4
ports: [{ name: grpc, port: ${a.port} }]
endpoints:
  - addresses: ["${a.host}"]
    conditions: { ready: true }
`,
      '20-ingress.yaml': `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/whitelist-source-range: "127.0.0.0/8"
    mse.ingress.kubernetes.io/domain-blacklist-source-range: "192.0.2.0/24"
    nginx.ingress.kubernetes.io/limit-rps: "1000"
    higress.io/route-limit-rpm: "60000"
    xgate.io/waf: detect
spec:
  ingressClassName: xgate
  rules:
    - host: ${HOST}
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: echo, port: { name: grpc } } } }
`,
      '30-guarded.yaml': `apiVersion: v1
kind: Secret
metadata: { name: htpasswd, namespace: default }
type: Opaque
stringData:
  auth: "alice:{SHA}g2YDYHBhl9R/ddqtGep+ipAO4aU=\\n"
---
${ingressYaml('guarded', HOST, { 'nginx.ingress.kubernetes.io/auth-type': 'basic', 'nginx.ingress.kubernetes.io/auth-secret': 'htpasswd' }, { service: 'echo', port: 'grpc', paths: ['/guarded.A/', '/guarded.B/'] })}`,
    });
    const bootstrap = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${t.cp.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'grpc-access-1', cluster: 'xgate-test', locality: {}, metadata: {} },
    });
    client = new grpc.Client(`xds:///${HOST}`, grpc.credentials.createInsecure(), { [BOOTSTRAP_OPTION]: bootstrap });
  });

  afterAll(async () => {
    client?.close();
    await a?.close();
  });

  it('resolves and calls through the route, and ACKs RDS', async () => {
    const deadline = Date.now() + 20_000;
    let last: unknown;
    for (;;) {
      try {
        const r = await echo(client, 'hello', { waitForReady: true, deadlineMs: 5_000 });
        expect(r.message).toBe('hello');
        break;
      } catch (err) {
        last = err;
        if (Date.now() > deadline) throw last;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const p = t.cp.proxies.list().find((x) => x.nodeId === 'grpc-access-1');
    expect(p?.types?.rds?.acked?.version).toBe(p?.types?.rds?.sent?.version);
    expect(p?.types?.rds?.nack).toBeUndefined();
  }, 30_000);
});
