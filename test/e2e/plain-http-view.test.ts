// The plain-HTTP listener's route configuration leaves out the routes an HTTPS redirect
// covers (translate/plain-http.ts) only while Envoy trusts no proxy in front: through
// the real Envoy, a TLS host still redirects every plain-HTTP request (whatever
// x-forwarded-proto the client sends) and serves its paths over HTTPS; with
// --trusted-hops 1, a load balancer that ended TLS (x-forwarded-proto: https) reaches
// the backends over the plain listener, so those routes are there.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, ingressYaml, serviceYaml, testControlPlane, tlsSecretYaml, type TestControlPlane } from '../helpers/control-plane.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const CERTS = path.join(import.meta.dirname, '..', 'fixtures', 'certs');
const certA = readFileSync(path.join(CERTS, 'a.crt'), 'utf8');
const keyA = readFileSync(path.join(CERTS, 'a.key'), 'utf8');

function withTls(yaml: string, host: string): string {
  return yaml.replace('spec:\n', `spec:\n  tls: [{ hosts: [${host}], secretName: tls-a }]\n`);
}

function httpsGet(port: number, host: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: p, servername: host, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

interface DumpedVhost {
  readonly name: string;
  readonly routes: ReadonlyArray<{ readonly name: string }>;
}

async function plainRoutes(envoy: RunningEnvoy, host: string): Promise<string[]> {
  const dump = (await envoy.configDump('resource=dynamic_route_configs')) as { configs: Array<{ route_config: { name: string; virtual_hosts?: DumpedVhost[] } }> };
  const http = dump.configs.find((c) => c.route_config.name === 'http')!;
  return http.route_config.virtual_hosts!.find((v) => v.name === host)!.routes.map((r) => r.name);
}

for (const trustedHops of [0, 1]) {
  describe(`a TLS host on the plain-HTTP listener, --trusted-hops ${trustedHops}`, () => {
    let t: TestControlPlane;
    let envoy: RunningEnvoy;
    let base: string;

    beforeAll(async () => {
      const [web, api] = (await testBackends(['web', 'api'], { distinctHosts: true })) as [Backend, Backend];
      t = await testControlPlane(
        {
          '00-class.yaml': INGRESS_CLASS_YAML,
          '10-services.yaml': [serviceYaml('web', [web]), serviceYaml('api', [api])].join('---\n'),
          '20-secret.yaml': tlsSecretYaml('tls-a', certA, keyA),
          '30-secure.yaml': withTls(ingressYaml('secure', 'a.example.com', {}, { paths: ['/', '/shop'] }), 'a.example.com'),
          // ssl-redirect "false" on another Ingress of the host: its path stays on plain HTTP.
          '31-open.yaml': ingressYaml('open', 'a.example.com', { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' }, { service: 'api', path: '/open' }),
        },
        { trustedHops },
      );
      envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
      await envoy.waitReady(30_000);
      await envoy.waitForListener('http', 30_000);
      base = `http://127.0.0.1:${t.httpPort}`;
      await eventually(async () => (await request(`${base}/open/x`, { host: 'a.example.com' })).status === 200, 30_000);
    }, 60_000);

    afterAll(async () => {
      await envoy?.stop();
    });

    it('plain HTTP is redirected; the ssl-redirect "false" path is served; HTTPS is served', async () => {
      for (const p of ['/', '/shop/cart?x=1']) {
        const r = await request(`${base}${p}`, { host: 'a.example.com' });
        expect(r.status).toBe(308);
        expect(r.headers['location']).toBe(`https://a.example.com${p}`);
      }
      expect((await request(`${base}/open/x`, { host: 'a.example.com' })).echo?.backend).toBe('api');
      const s = await httpsGet(t.httpsPort, 'a.example.com', '/shop/cart');
      expect(s.status).toBe(200);
      expect(JSON.parse(s.body).backend).toBe('web');
    });

    it(trustedHops === 0 ? 'x-forwarded-proto from the client changes nothing, and the covered routes are not in the plain-HTTP configuration' : 'a load balancer that ended TLS reaches the backends: the routes are in the plain-HTTP configuration', async () => {
      const viaLb = await request(`${base}/shop/cart`, { host: 'a.example.com', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '192.0.2.1' } });
      const names = await plainRoutes(envoy, 'a.example.com');
      if (trustedHops === 0) {
        expect(viaLb.status).toBe(308);
        expect(names).toEqual(['default/open/Prefix:/open', 'default/secure/Prefix:/shop#https-redirect', 'default/secure/Prefix:/#https-redirect']);
      } else {
        expect(viaLb.status).toBe(200);
        expect(viaLb.echo?.backend).toBe('web');
        expect(names).toEqual(['default/open/Prefix:/open', 'default/secure/Prefix:/shop#https-redirect', 'default/secure/Prefix:/shop', 'default/secure/Prefix:/#https-redirect', 'default/secure/Prefix:/']);
      }
    });
  });
}
