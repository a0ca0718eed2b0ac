// OIDC login through the real Envoy: xgate.io/oidc-* → oauth2 filter, against a real
// OIDC provider (the oidc-provider package, dev interactions, http on 127.0.0.9), driven
// by a small HTTP client that follows redirects, keeps cookies and submits the login and
// consent forms.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Provider from 'oidc-provider';
import { testBackends, request, type Backend } from '../helpers/backends.js';
import { INGRESS_CLASS_YAML, serviceYaml, testControlPlane, type TestControlPlane, ingressYaml as sharedIngressYaml } from '../helpers/control-plane.js';
import { freePort } from '../helpers/ports.js';
import { eventually } from '../helpers/wait.js';
import { testEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

const IDP_HOST = '127.0.0.9';
const CLIENT_SECRET = 'shop-client-secret-0123456789';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  url: string;
}

/** A browser-ish client: a cookie jar per authority; `gateway` maps a host to Envoy's listener. */
class Browser {
  readonly jar = new Map<string, Map<string, string>>();
  constructor(private readonly gatewayPort: number) {}

  private target(url: URL): { host: string; port: number } {
    if (url.hostname.endsWith('.example.com')) return { host: '127.0.0.1', port: this.gatewayPort };
    return { host: url.hostname, port: Number(url.port || 80) };
  }

  send(raw: string, method = 'GET', form?: Record<string, string>): Promise<Answer> {
    const url = new URL(raw);
    const cookies = this.jar.get(url.host);
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers: Record<string, string> = { host: url.host };
    if (cookies?.size) headers['cookie'] = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const { host, port } = this.target(url);
    return new Promise((resolve, reject) => {
      const req = http.request({ host, port, path: `${url.pathname}${url.search}`, method, headers, agent: false }, (res) => {
        for (const c of res.headers['set-cookie'] ?? []) {
          const [pair, ...attrs] = c.split(';');
          const eq = pair!.indexOf('=');
          const name = pair!.slice(0, eq).trim();
          const value = pair!.slice(eq + 1).trim();
          let m = this.jar.get(url.host);
          if (!m) this.jar.set(url.host, (m = new Map()));
          const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()));
          if (expired || value === '' || value === 'deleted') m.delete(name);
          else m.set(name, value);
        }
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, url: raw }));
        res.on('error', reject);
      });
      req.setTimeout(15_000, () => req.destroy(new Error(`timeout: ${raw}`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Follows redirects (at most 20); returns every answer, the last one last. */
  async follow(raw: string, method = 'GET', form?: Record<string, string>): Promise<Answer[]> {
    const answers: Answer[] = [];
    let a = await this.send(raw, method, form);
    answers.push(a);
    while ([301, 302, 303, 307, 308].includes(a.status) && answers.length < 20) {
      const next = new URL(String(a.headers.location), a.url).toString();
      a = await this.send(next);
      answers.push(a);
    }
    return answers;
  }
}

/** The form's action and hidden prompt from an oidc-provider dev interaction page. */
function formOf(a: Answer): { action: string; prompt: string } {
  const action = /<form[^>]*action="([^"]+)"/.exec(a.body)?.[1];
  const prompt = /name="prompt" value="([^"]+)"/.exec(a.body)?.[1];
  if (!action || !prompt) throw new Error(`no form in ${a.url} (${a.status}): ${a.body.slice(0, 300)}`);
  return { action: new URL(action.replace(/&amp;/g, '&'), a.url).toString(), prompt };
}

function ingress(name: string, host: string, annotations: Record<string, string>): string {
  return sharedIngressYaml(name, host, annotations);
}

const SECRET_YAML = `apiVersion: v1
kind: Secret
metadata: { name: shop-oidc, namespace: default }
type: Opaque
stringData:
  client-secret: ${CLIENT_SECRET}
`;

async function diagnostics(t: TestControlPlane): Promise<Array<{ code: string; text: string; object: { name: string } }>> {
  const r = await fetch(`http://127.0.0.1:${t.cp.adminPort}/debug/diagnostics`);
  return ((await r.json()) as { diagnostics: Array<{ code: string; text: string; object: { name: string } }> }).diagnostics;
}

describe('OIDC login through the real Envoy', () => {
  let web: Backend;
  let t: TestControlPlane;
  let envoy: RunningEnvoy;
  let idp: http.Server;
  let issuer: string;

  beforeAll(async () => {
    [web] = (await testBackends(['web'])) as [Backend];
    t = await testControlPlane({ '00-class.yaml': INGRESS_CLASS_YAML, '10-web.yaml': serviceYaml('web', [web]), '15-secret.yaml': SECRET_YAML });
    const idpPort = await freePort(IDP_HOST);
    issuer = `http://${IDP_HOST}:${idpPort}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'shop',
          client_secret: CLIENT_SECRET,
          redirect_uris: [`http://shop.example.com:${t.httpPort}/oauth2/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      cookies: { keys: ['test-cookie-key-0123456789'] },
      features: { devInteractions: { enabled: true } },
      claims: { openid: ['sub'], email: ['email'] },
      findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: `${sub}@example.com` }) }),
    });
    // Dev mode over plain http on loopback: no secure-cookie proxying to trust.
    provider.proxy = false;
    idp = http.createServer(provider.callback());
    await new Promise<void>((resolve) => idp.listen({ host: IDP_HOST, port: idpPort }, resolve));
    envoy = await testEnvoy({ xdsPort: t.cp.xdsPort });
    await envoy.waitReady(20_000);
    await envoy.waitForListener('http', 20_000);
  }, 60_000);

  afterAll(async () => {
    await envoy?.stop();
    await new Promise<void>((resolve) => {
      if (!idp) return resolve();
      idp.close(() => resolve());
      idp.closeAllConnections();
    });
  });

  it('logs in through the provider and reaches the backend with a session cookie', async () => {
    t.write('20-shop.yaml', ingress('shop', 'shop.example.com', { 'xgate.io/oidc-issuer': issuer, 'xgate.io/oidc-client-id': 'shop', 'xgate.io/oidc-client-secret': 'shop-oidc', 'xgate.io/oidc-scopes': 'openid email' }));
    const shop = `http://shop.example.com:${t.httpPort}`;
    const b = new Browser(t.httpPort);
    // Until the discovery document is in, the route answers 503; then it redirects to the provider.
    await eventually(async () => (await b.send(`${shop}/private?x=1`)).status === 302, 30_000, 200);
    const first = await b.send(`${shop}/private?x=1`);
    const authUrl = new URL(String(first.headers.location));
    expect(`${authUrl.origin}${authUrl.pathname}`).toBe(`${issuer}/auth`);
    expect(authUrl.searchParams.get('client_id')).toBe('shop');
    expect(authUrl.searchParams.get('redirect_uri')).toBe(`${shop}/oauth2/callback`);
    expect(authUrl.searchParams.get('scope')).toBe('openid email');

    // The provider's login page, then its consent page.
    let answers = await b.follow(authUrl.toString());
    let page = answers.at(-1)!;
    let form = formOf(page);
    expect(form.prompt).toBe('login');
    answers = await b.follow(form.action, 'POST', { prompt: 'login', login: 'alice', password: 'x' });
    page = answers.at(-1)!;
    if (page.status === 200 && /name="prompt" value="consent"/.test(page.body)) {
      form = formOf(page);
      answers = await b.follow(form.action, 'POST', { prompt: 'consent' });
      page = answers.at(-1)!;
    }
    // The chain went through Envoy's callback (code exchanged at the token endpoint) back to the original URL.
    expect(answers.some((a) => a.url.startsWith(`${shop}/oauth2/callback?`))).toBe(true);
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${shop}/private?x=1`);
    expect(JSON.parse(page.body).backend).toBe('web');
    const session = b.jar.get(`shop.example.com:${t.httpPort}`)!;
    expect(session.has('BearerToken')).toBe(true);
    expect(session.has('OauthHMAC')).toBe(true);

    // With the session cookie: straight to the backend.
    const again = await b.send(`${shop}/other`);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body).path).toBe('/other');

    // Without it: redirected to the provider.
    const anon = await new Browser(t.httpPort).send(`${shop}/other`);
    expect(anon.status).toBe(302);
    expect(String(anon.headers.location).startsWith(`${issuer}/auth?`)).toBe(true);

    // A forged cookie does not pass.
    const forger = new Browser(t.httpPort);
    const jar = new Map(session);
    jar.set('OauthHMAC', 'forged');
    forger.jar.set(`shop.example.com:${t.httpPort}`, jar);
    expect((await forger.send(`${shop}/other`)).status).toBe(302);
  }, 90_000);

  it('an OAuth2 config the routes of an Ingress share sits on the virtual host; another Ingress on that host stays open', async () => {
    const shopAnnotations = { 'xgate.io/oidc-issuer': issuer, 'xgate.io/oidc-client-id': 'shop', 'xgate.io/oidc-client-secret': 'shop-oidc', 'xgate.io/oidc-scopes': 'openid email' };
    // The shop Ingress with two paths (its OAuth2 switch moves up to the virtual host), and an open one on the same host.
    t.write('20-shop.yaml', sharedIngressYaml('shop', 'shop.example.com', shopAnnotations, { paths: ['/', '/api'] }));
    t.write('21-public.yaml', sharedIngressYaml('public', 'shop.example.com', {}, { path: '/public' }));
    const shop = `http://shop.example.com:${t.httpPort}`;
    const anon = new Browser(t.httpPort);
    await eventually(async () => (await anon.send(`${shop}/public/page`)).status === 200, 30_000, 200);
    expect(JSON.parse((await anon.send(`${shop}/public/page`)).body).path).toBe('/public/page');
    for (const path of ['/api/x', '/private']) {
      const r = await anon.send(`${shop}${path}`);
      expect(r.status, path).toBe(302);
      expect(String(r.headers.location).startsWith(`${issuer}/auth?`)).toBe(true);
    }
    const dump = (await envoy.configDump('resource=dynamic_route_configs')) as { configs: Array<{ route_config: { virtual_hosts?: Array<{ name: string; typed_per_filter_config?: Record<string, unknown>; routes: Array<{ name: string; typed_per_filter_config?: Record<string, { disabled?: boolean }> }> }> } }> };
    const vh = dump.configs.flatMap((c) => c.route_config.virtual_hosts ?? []).find((v) => v.name === 'shop.example.com')!;
    const oauth2 = Object.keys(vh.typed_per_filter_config ?? {}).filter((k) => k.startsWith('xgate.oauth2.'));
    expect(oauth2).toHaveLength(1);
    const open = vh.routes.find((r) => r.name === 'default/public/Prefix:/public')!;
    expect(open.typed_per_filter_config?.[oauth2[0]!]?.disabled).toBe(true);
  }, 60_000);

  it('fails closed (503) with a diagnostic when the issuer is unreachable', async () => {
    t.write('30-down.yaml', ingress('down', 'down.example.com', { 'xgate.io/oidc-issuer': 'http://127.0.0.10:9', 'xgate.io/oidc-client-id': 'shop', 'xgate.io/oidc-client-secret': 'shop-oidc' }));
    await eventually(async () => (await diagnostics(t)).some((d) => d.code === 'XG_OIDC_DISCOVERY' && d.object.name === 'down' && d.text.includes('could not be fetched')), 30_000, 200);
    const before = web.requests;
    const r = await request(`http://127.0.0.1:${t.httpPort}/`, { host: 'down.example.com' });
    expect(r.status).toBe(503);
    expect(r.body).toContain('OIDC provider unavailable');
    expect(web.requests).toBe(before);
  }, 60_000);
});
