// The WAF (wasm-plugins/waf) per route. Two instances of the Wasm filter sit in every
// connection manager, `xgate.waf.block` and `xgate.waf.detect`, both `disabled: true`, so
// the chain never changes when a route starts or stops using the WAF (no LDS, no drain).
// A route enables its mode's instance with FilterConfig{config: Wasm{}, is_optional}: the
// Wasm filter has no per-route config, so Envoy finds no route-specific object, ignores
// it (optional) and treats the filter as explicitly enabled for that route (Envoy's
// per_filter_config.cc). Both instances share one VM (same vm_id and code).
//
// The module is a file in the Envoy pod (--waf-module, e.g. /etc/xgate/wasm/waf.wasm,
// which the Helm chart copies there from an image). Without --waf-module the two names
// are RBAC filters that deny everything, so a route asking for the WAF answers 403
// (fails closed) instead of passing unchecked.
import type { RoutePolicy } from '../../model/ir.js';
import type { JsonObject } from '../../xds/encode.js';
import { FILTER_ORDER, perFilterConfig, type ResourceContributor } from '../extension.js';

const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const WAF_MODES = ['block', 'detect'] as const;

export function wafFilterName(mode: string): string {
  return `xgate.waf.${mode}`;
}

function wasmFilter(mode: string, module: string): JsonObject {
  return {
    name: wafFilterName(mode),
    disabled: true,
    typed_config: {
      '@type': WASM_TYPE,
      config: {
        name: 'xgate-waf',
        root_id: 'xgate-waf',
        fail_open: false,
        configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: JSON.stringify({ mode }) },
        vm_config: { vm_id: 'xgate-waf', runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: module } } },
      },
    },
  };
}

function standIn(mode: string): JsonObject {
  return { name: wafFilterName(mode), disabled: true, typed_config: { '@type': RBAC_TYPE, rules: { action: 'ALLOW' }, rules_stat_prefix: 'xgate_waf_unavailable_' } };
}

export function applyRouteWaf(policy: RoutePolicy, route: JsonObject): void {
  if (policy.waf) perFilterConfig(route, wafFilterName(policy.waf), ENABLE_WAF);
}

/** Shared by every route (so routes can share their FilterConfig, see hoist-filter-configs.ts). */
const ENABLE_WAF: JsonObject = { '@type': WASM_TYPE };

export const wafContributor: ResourceContributor = {
  order: FILTER_ORDER.waf,
  httpFilters(ctx) {
    const module = ctx.opts.wafModule;
    return WAF_MODES.map((m) => (module ? wasmFilter(m, module) : standIn(m)));
  },
};
