// translate/plain-http.ts and its use in translate(): the plain-HTTP route configurations
// leave out the routes an HTTPS redirect covers while Envoy trusts no proxy in front;
// HTTPS and proxyless gRPC clients keep every route.
import { describe, expect, it } from 'vitest';
import type { VirtualHost } from '../../control-plane/src/model/ir.js';
import { DEFAULT_PIPELINE_OPTIONS, translateStore } from '../../control-plane/src/pipeline/translate-store.js';
import { snapshotOf } from '../../control-plane/src/sources/store.js';
import { fullVirtualHost, plainHttpView } from '../../control-plane/src/translate/plain-http.js';
import { translateVirtualHost } from '../../control-plane/src/translate/route.js';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';

const ref = { kind: 'Ingress', namespace: 'd', name: 'n' };
const XFP = { name: 'x-forwarded-proto', match: { type: 'Exact', value: 'http' } } as const;
const TO_HTTPS = { kind: 'redirect', code: 308, scheme: 'https' } as const;
const fwd = { kind: 'forward', backends: [{ cluster: 'c', weight: 1 }] } as const;
const names = (vh: JsonObject) => (vh['routes'] as JsonObject[]).map((r) => r['name']);

describe('plainHttpView', () => {
  it('a catch-all redirect covers every later route (a wildcard host: with its :authority check)', () => {
    for (const host of ['a.example.com', '*.example.com']) {
      const vh: VirtualHost = {
        host,
        routes: [
          { name: '#https-redirect', match: { path: { type: 'StringPrefix', value: '/' }, headers: [XFP] }, action: TO_HTTPS, source: ref },
          { name: 'api', match: { path: { type: 'Prefix', value: '/api' }, headers: [{ name: 'x-env', match: { type: 'Exact', value: 'beta' } }] }, action: fwd, source: ref },
          { name: 'root', match: { path: { type: 'Prefix', value: '/' } }, action: fwd, source: ref },
        ],
      };
      const full = translateVirtualHost(vh);
      const view = plainHttpView(full);
      expect(names(view)).toEqual(['#https-redirect']);
      expect(plainHttpView(full)).toEqual(view);
      expect(fullVirtualHost(view)).toBe(full);
      expect(names(full)).toEqual(['#https-redirect', 'api', 'root']);
    }
  });

  it('a per-route redirect covers the route after it with the same match only', () => {
    const vh: VirtualHost = {
      host: 'a.example.com',
      routes: [
        { name: 'shop#https-redirect', match: { path: { type: 'Prefix', value: '/shop' }, headers: [XFP] }, action: TO_HTTPS, source: ref },
        { name: 'shop', match: { path: { type: 'Prefix', value: '/shop' } }, action: fwd, source: ref },
        { name: 'open', match: { path: { type: 'Prefix', value: '/open' } }, action: fwd, source: ref },
        { name: 'api#https-redirect', match: { path: { type: 'Exact', value: '/api' }, headers: [XFP] }, action: TO_HTTPS, source: ref },
        // Not the redirect's match (another path type): reachable, kept.
        { name: 'api', match: { path: { type: 'Prefix', value: '/api' } }, action: fwd, source: ref },
      ],
    };
    expect(names(plainHttpView(translateVirtualHost(vh)))).toEqual(['shop#https-redirect', 'open', 'api#https-redirect', 'api']);
  });

  it('a host without HTTPS redirects is its own view', () => {
    const vh: VirtualHost = { host: 'a.example.com', routes: [{ name: 'root', match: { path: { type: 'Prefix', value: '/' } }, action: fwd, source: ref }] };
    const full = translateVirtualHost(vh);
    expect(plainHttpView(full)).toBe(full);
    expect(fullVirtualHost(full)).toBe(full);
  });

  it('a redirect elsewhere (not to https, or not for x-forwarded-proto: http) covers nothing', () => {
    const vh: VirtualHost = {
      host: 'a.example.com',
      routes: [
        { name: 'moved', match: { path: { type: 'StringPrefix', value: '/' }, headers: [XFP] }, action: { kind: 'redirect', code: 301, host: 'b.example.com' }, source: ref },
        { name: 'root', match: { path: { type: 'Prefix', value: '/' } }, action: fwd, source: ref },
      ],
    };
    const full = translateVirtualHost(vh);
    expect(plainHttpView(full)).toBe(full);
  });
});

describe('translate() with the plain-HTTP views', () => {
  const objects = [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'xgate' }, spec: { controller: 'xgate.io/ingress-controller' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'forced', namespace: 'default', annotations: { 'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true' } },
      spec: { ingressClassName: 'xgate', rules: [{ host: 'forced.example.com', http: { paths: ['/', '/api'].map((path) => ({ path, pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } })) } }] },
    },
  ];

  const routesOf = (rcs: readonly JsonObject[], host: string): unknown[] => {
    for (const rc of rcs) for (const vh of rc['virtual_hosts'] as JsonObject[]) if (vh['name'] === host) return names(vh);
    throw new Error(`no ${host}`);
  };

  for (const routeShards of [1, 4]) {
    it(`leaves covered routes out of the plain-HTTP configuration only with --trusted-hops 0; gRPC clients keep them (${routeShards} shard${routeShards > 1 ? 's' : ''})`, () => {
      const run = (trustedHops: number) => translateStore(snapshotOf(objects as never), { ...DEFAULT_PIPELINE_OPTIONS, routeShards, trustedHops }).resources;
      const plain = run(0);
      const envoyHttp = plain['envoy']!.routes.filter((rc) => String(rc['name']).startsWith('http'));
      expect(routesOf(envoyHttp, 'forced.example.com')).toEqual(['#https-redirect']);
      const grpc = plain['grpc']!.routes;
      expect(routesOf(grpc, 'forced.example.com')).toEqual(['default/forced/Prefix:/api', 'default/forced/Prefix:/api#/', 'default/forced/Prefix:/']);
      const trusted = run(1);
      expect(routesOf(trusted['envoy']!.routes.filter((rc) => String(rc['name']).startsWith('http')), 'forced.example.com')).toEqual(['#https-redirect', 'default/forced/Prefix:/api', 'default/forced/Prefix:/']);
      // And back: translation starts over when the option changes.
      expect(routesOf(run(0)['envoy']!.routes.filter((rc) => String(rc['name']).startsWith('http')), 'forced.example.com')).toEqual(['#https-redirect']);
    });
  }
});
