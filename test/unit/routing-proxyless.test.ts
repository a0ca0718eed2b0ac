// proxylessRouteConfiguration: what grpc-js-xds would reject is left out or rewritten.
import { describe, expect, it } from 'vitest';
import { proxylessRouteConfiguration, translateRouteConfiguration } from '../../control-plane/src/translate/route.js';
import type { VirtualHost } from '../../control-plane/src/model/ir.js';

const ref = { kind: 'Ingress', namespace: 'd', name: 'n' };
const vh: VirtualHost = {
  host: 'a.example.com',
  routes: [
    { name: 'redirect', match: { path: { type: 'StringPrefix', value: '/' }, headers: [{ name: 'x-forwarded-proto', match: { type: 'Exact', value: 'http' } }] }, action: { kind: 'redirect', code: 308, scheme: 'https' }, source: ref },
    { name: 'p', match: { path: { type: 'Prefix', value: '/pkg.Svc', ignoreCase: true } }, action: { kind: 'forward', backends: [{ cluster: 'c', weight: 1 }] }, source: ref },
    { name: 'down', match: { path: { type: 'Exact', value: '/x' } }, action: { kind: 'direct', status: 503 }, source: ref },
    { name: 'root', match: { path: { type: 'Prefix', value: '/' } }, action: { kind: 'forward', backends: [{ cluster: 'c', weight: 1 }] }, source: ref },
  ],
};

describe('proxyless route configuration', () => {
  it('keeps only forwarding routes, with prefix, path or safe_regex matchers', () => {
    const out = proxylessRouteConfiguration(translateRouteConfiguration('http', [vh]));
    const routes = (out['virtual_hosts'] as { routes: { name: string; match: Record<string, unknown> }[] }[])[0]!.routes;
    expect(routes.map((r) => r.name)).toEqual(['p', 'p#/', 'root']);
    expect(routes.map((r) => r.match)).toEqual([{ path: '/pkg.Svc', case_sensitive: false }, { prefix: '/pkg.Svc/', case_sensitive: false }, { prefix: '/' }]);
    expect(proxylessRouteConfiguration(translateRouteConfiguration('http', [vh]))['virtual_hosts']).toEqual(out['virtual_hosts']);
  });
});
