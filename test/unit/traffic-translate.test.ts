// The traffic translators on hand-made model routes: error routes copy their source
// route's per-filter configs (auth, IP lists…), fail-closed routes get no policy, and
// header values are escaped.
import { describe, expect, it } from 'vitest';
import type { Route, VirtualHost } from '../../control-plane/src/model/ir.js';
import type { JsonObject } from '../../control-plane/src/xds/encode.js';
import { translateVirtualHost } from '../../control-plane/src/translate/route.js';
import { addErrorRoutes, markCustomErrors, CUSTOM_RESPONSE_FILTER, customResponseConfig } from '../../control-plane/src/translate/traffic/custom-errors.js';
import { applyCors, applyHeaderControl, applyMirror, applyRetry } from '../../control-plane/src/translate/traffic/route-policies.js';
import { encodeMessage } from '../../control-plane/src/xds/encode.js';

const src = { kind: 'Ingress', namespace: 'shop', name: 'api' };
const customErrors = { cluster: 'shop/errors/80', codes: [404], namespace: 'shop', ingress: 'api', service: 'errors', port: 80 };

function route(name: string, policy: Route['policy']): Route {
  return { name, match: { path: { type: 'Prefix', value: '/' } }, action: { kind: 'forward', backends: [{ cluster: 'shop/web/80', weight: 1 }] }, source: src, ...(policy ? { policy } : {}) };
}

describe('custom error routes', () => {
  it('adds one error route per source route, in front, with the source\'s per-filter configs except custom_response', () => {
    const r = route('shop/api/Prefix:/', { customErrors });
    const json: JsonObject = { name: r.name, match: { prefix: '/' }, route: { cluster: 'shop/web/80' }, typed_per_filter_config: { 'envoy.filters.http.rbac': { '@type': 'x', is_optional: true } } };
    markCustomErrors(r.policy!, json);
    const vhost: JsonObject = { name: 'h', domains: ['h'], routes: [json] };
    addErrorRoutes({ customErrorRoutes: true }, vhost);
    const routes = vhost['routes'] as JsonObject[];
    expect(routes).toHaveLength(2);
    expect(routes[0]).toEqual({
      name: 'shop/api/Prefix://custom-error',
      match: { path: '/', headers: [{ name: 'x-xgate-error-route', string_match: { exact: 'shop/api/Prefix:/' } }] },
      route: { cluster: 'shop/errors/80' },
      typed_per_filter_config: { 'envoy.filters.http.rbac': { '@type': 'x', is_optional: true } },
    });
    expect(Object.keys(routes[1]!['typed_per_filter_config'] as JsonObject).sort()).toEqual([CUSTOM_RESPONSE_FILTER, 'envoy.filters.http.rbac']);
  });

  it('does nothing on a host without the marker, or for a fail-closed route', () => {
    const vh: VirtualHost = { host: 'a.example.com', routes: [route('r1', { customErrors })] };
    expect((translateVirtualHost(vh)['routes'] as JsonObject[]).length).toBe(1);
    const closed: VirtualHost = { host: 'b.example.com', routes: [route('r2', { customErrors, failClosed: { status: 403, reason: 'x' } })], policy: { customErrorRoutes: true } };
    const out = translateVirtualHost(closed)['routes'] as JsonObject[];
    expect(out).toHaveLength(1);
    expect(out[0]!['typed_per_filter_config']).toBeUndefined();
    const ok: VirtualHost = { host: 'c.example.com', routes: [route('r3', { customErrors })], policy: { customErrorRoutes: true } };
    expect((translateVirtualHost(ok)['routes'] as JsonObject[]).map((x) => x['name'])).toEqual(['r3/custom-error', 'r3']);
  });

  it('the custom_response config encodes (every type known)', () => {
    const cfg = customResponseConfig({ ...customErrors, codes: [404, 500] }, 'r');
    expect(() => encodeMessage(String(cfg['@type']), (({ '@type': _t, ...rest }) => rest)(cfg) as JsonObject)).not.toThrow();
  });
});

describe('route policies', () => {
  it('fail-closed routes get no CORS or header edits', () => {
    const out: JsonObject = { name: 'r', match: {}, direct_response: { status: 403 } };
    const policy = {
      failClosed: { status: 403, reason: 'x' },
      cors: { origins: [{ type: 'any' as const }], allowMethods: 'GET', allowHeaders: 'X', exposeHeaders: '', allowCredentials: true, maxAgeSeconds: 1 },
      headerControl: { request: { add: [{ name: 'x-a', value: '1' }], update: [], remove: [] } },
    };
    applyCors(policy, out);
    applyHeaderControl(policy, out);
    expect(out).toEqual({ name: 'r', match: {}, direct_response: { status: 403 } });
  });

  it('retries and mirrors only forwarding routes; header edits append to what other areas set', () => {
    const direct: JsonObject = { direct_response: { status: 503 } };
    applyRetry({ retry: { retryOn: ['reset'], statusCodes: [], numRetries: 2, nonIdempotent: true } }, direct);
    applyMirror({ mirror: { cluster: 'c', percent: 100 } }, direct);
    expect(direct).toEqual({ direct_response: { status: 503 } });
    const fwd: JsonObject = { route: { cluster: 'x' }, request_headers_to_add: [{ header: { key: 'x-forwarded-prefix', value: '/a' } }] };
    applyHeaderControl({ headerControl: { request: { add: [{ name: 'x-a', value: '50%%' }], update: [], remove: ['x-b'] } } }, fwd);
    expect(fwd['request_headers_to_add']).toEqual([
      { header: { key: 'x-forwarded-prefix', value: '/a' } },
      { header: { key: 'x-a', value: '50%%' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    expect(fwd['request_headers_to_remove']).toEqual(['x-b']);
    applyMirror({ mirror: { cluster: 'c', percent: 0.5 } }, fwd);
    expect((fwd['route'] as JsonObject)['request_mirror_policies']).toEqual([{ cluster: 'c', runtime_fraction: { default_value: { numerator: 5000, denominator: 'MILLION' } } }]);
  });
});
