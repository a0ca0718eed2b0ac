// Runs the registered resource contributors (translate/registry.ts) over a model: the
// HTTP filters of the gateway listeners, and the clusters and secrets those filters use.
import type { Model, Route, VirtualHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import type { FilterContext } from './extension.js';
import type { TranslateOptions } from './options.js';
import { resourceName } from './resources.js';
import { CONTRIBUTORS } from './registry.js';

export interface Contributed {
  readonly httpFilters: readonly JsonObject[];
  /** Sorted by name, unique. */
  readonly clusters: readonly JsonObject[];
  /** Sorted by name, unique. */
  readonly secrets: readonly JsonObject[];
}

const collected = new WeakMap<VirtualHost, Map<string, readonly unknown[]>>();

function filterContext(model: Model, opts: TranslateOptions): FilterContext {
  return {
    model,
    opts,
    collect<T>(key: string, pick: (route: Route, vh: VirtualHost) => T | undefined): readonly T[] {
      const out: T[] = [];
      for (const vh of model.virtualHosts) {
        let byKey = collected.get(vh);
        if (!byKey) collected.set(vh, (byKey = new Map()));
        let items = byKey.get(key) as readonly T[] | undefined;
        if (!items) {
          const found: T[] = [];
          for (const r of vh.routes) {
            const v = pick(r, vh);
            if (v !== undefined) found.push(v);
          }
          byKey.set(key, (items = found));
        }
        for (const v of items) out.push(v);
      }
      return out;
    },
  };
}

export function contributedResources(model: Model, opts: TranslateOptions): Contributed {
  if (CONTRIBUTORS.length === 0) return { httpFilters: [], clusters: [], secrets: [] };
  const ctx = filterContext(model, opts);
  const httpFilters: JsonObject[] = [];
  const clusters = new Map<string, JsonObject>();
  const secrets = new Map<string, JsonObject>();
  for (const c of CONTRIBUTORS) {
    if (c.httpFilters) httpFilters.push(...c.httpFilters(ctx));
    for (const cl of c.clusters?.(ctx) ?? []) clusters.set(resourceName(cl), cl);
    for (const s of c.secrets?.(ctx) ?? []) secrets.set(resourceName(s), s);
  }
  const sorted = (m: Map<string, JsonObject>): JsonObject[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  return { httpFilters, clusters: sorted(clusters), secrets: sorted(secrets) };
}
