// Runs the registered resource contributors (translate/registry.ts) over a model: the
// HTTP filters of the gateway listeners, and the clusters and secrets those filters use.
//
// Incremental: contributors are pure functions of what they read through their context
// (the model's fields, the options, collected route values). What each one read is
// recorded; when all of it is the same as at its last run (the same objects: model
// objects are never mutated), its last output is returned without running it. Collected
// values are kept per key with the host list they came from (by position), and a list of
// the same virtual hosts as the last build's gives the last collected list itself. Unchanged output keeps its identity,
// so the listeners built from it are reused downstream at the cost of a pointer comparison.
import type { Model, Route, VirtualHost } from '../model/ir.js';
import type { JsonObject } from '../xds/encode.js';
import type { FilterContext, ResourceContributor } from './extension.js';
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

type Pick = (route: Route, vh: VirtualHost) => unknown;
const NONE: readonly unknown[] = [];

/**
 * The values `pick` gives for the routes of one virtual host. Not memoised per host: a
 * build asks once per host and key (collectAll keeps the last build's values by position,
 * so a later build asks only for the hosts that changed), and a memo per host (a WeakMap
 * entry and a Map for each of ~14k hosts at 10k Ingresses) cost a from-scratch build more
 * than the walks it saved.
 */
function itemsOf(vh: VirtualHost, pick: Pick): readonly unknown[] {
  let found: unknown[] | undefined;
  for (const r of vh.routes) {
    if (r.policy === undefined) continue; // see FilterContext.collect
    const v = pick(r, vh);
    if (v !== undefined) (found ??= []).push(v);
  }
  return found ?? NONE;
}

/**
 * Per key: the virtual host list last collected and the values collected (`out`), and the
 * values of each host of `itemsList` (an earlier list, or the same).
 */
interface Collected {
  readonly vhosts: readonly VirtualHost[];
  readonly out: readonly unknown[];
  readonly itemsList: readonly VirtualHost[];
  readonly items: readonly (readonly unknown[])[];
}

const lastCollected = new Map<string, Collected>();

/** How far ahead in the last build's list a virtual host is looked for (hosts removed in between). */
const LOOKAHEAD = 8;

/** How a build's virtual host list differs from the last build's. */
interface HostDiff {
  readonly prev: readonly VirtualHost[];
  /** When both have the same length: the indices where they differ (the concatenation of values is by index). */
  readonly replaced: readonly number[] | undefined;
  /** Else, when known: the hosts of the new list not in the last (`added`) and the reverse, every other host in the same order. */
  readonly added?: readonly VirtualHost[];
  readonly removed?: readonly VirtualHost[];
}

/**
 * How the list given to contributedResources differs from the `prev` list, as the caller
 * found out comparing them (translate's virtual host list memo): the hosts of the new
 * list not in `prev`, those of `prev` not in the new list; every other host is in both,
 * in the same order.
 */
export interface HostChanges {
  readonly prev: readonly VirtualHost[];
  readonly added: readonly VirtualHost[];
  readonly removed: readonly VirtualHost[];
  /** When the new list has the length of `prev` and differs only in place: the indices that may differ. */
  readonly replaced?: readonly number[];
}

/** The virtual host list of the last build. */
let lastHosts: readonly VirtualHost[] = [];

function hostDiff(prev: readonly VirtualHost[], next: readonly VirtualHost[], known: HostChanges | undefined): HostDiff {
  if (prev === next) return { prev, replaced: [] };
  if (known && known.prev === prev && known.replaced && prev.length === next.length) return { prev, replaced: known.replaced };
  if (prev.length !== next.length) return known && known.prev === prev ? { prev, replaced: undefined, added: known.added, removed: known.removed } : { prev, replaced: undefined };
  const replaced: number[] = [];
  for (let i = 0; i < next.length; i++) if (next[i] !== prev[i]) replaced.push(i);
  return { prev, replaced };
}

/** Whether none of `hosts` has a value for `key`. */
function noneHasItems(hosts: readonly VirtualHost[], pick: Pick): boolean {
  for (const vh of hosts) if (itemsOf(vh, pick).length > 0) return false;
  return true;
}

function collectAll(vhosts: readonly VirtualHost[], key: string, pick: Pick, diff: HostDiff, policyRoutes: () => readonly (readonly Route[] | undefined)[]): readonly unknown[] {
  const last = lastCollected.get(key);
  if (last && last.vhosts === vhosts) return last.out;
  // The hosts at the indices that differ have the same values (objects) as the last ones there: the last list.
  // (Past MANY_MISSING hosts, the walk at the end finds that out faster.)
  if (last && last.vhosts === diff.prev && diff.replaced && diff.replaced.length <= MANY_MISSING) {
    let same = true;
    for (const i of diff.replaced) {
      const a = itemsOf(vhosts[i]!, pick);
      const b = last.itemsList === diff.prev ? last.items[i]! : itemsOf(diff.prev[i]!, pick);
      if (a !== b && !sameElements(a, b)) {
        same = false;
        break;
      }
    }
    if (same) {
      lastCollected.set(key, { ...last, vhosts });
      return last.out;
    }
  }
  // Hosts added or removed that have no values leave the concatenation as it was (the common case: a plain host).
  if (
    last &&
    last.vhosts === diff.prev &&
    diff.added &&
    diff.removed &&
    diff.added.length + diff.removed.length <= MANY_MISSING &&
    noneHasItems(diff.added, pick) &&
    noneHasItems(diff.removed, pick)
  ) {
    lastCollected.set(key, { ...last, vhosts });
    return last.out;
  }
  // Else every host's values, the same hosts' found in order in the list they were last kept for.
  const prev = last?.itemsList ?? [];
  const prevItems = last?.items ?? [];
  const items = new Array<readonly unknown[] | undefined>(vhosts.length);
  const missing: number[] = [];
  let j = 0;
  for (let i = 0; i < vhosts.length; i++) {
    const vh = vhosts[i]!;
    let k = j;
    const end = Math.min(prev.length, j + LOOKAHEAD);
    while (k < end && prev[k] !== vh) k++;
    if (k < end) {
      items[i] = prevItems[k]!;
      j = k + 1;
    } else missing.push(i);
  }
  if (missing.length > MANY_MISSING) {
    // Many new hosts (a first build): walk only the routes with a policy, found once per build for every key.
    const withPolicy = policyRoutes();
    for (const i of missing) {
      const routes = withPolicy[i];
      items[i] = routes === undefined ? NONE : itemsOfRoutes(routes, vhosts[i]!, pick);
    }
  } else for (const i of missing) items[i] = itemsOf(vhosts[i]!, pick);
  const all: unknown[] = [];
  for (const v of items) for (const x of v!) all.push(x);
  const out = last && sameElements(all, last.out) ? last.out : all;
  lastCollected.set(key, { vhosts, out, itemsList: vhosts, items: items as (readonly unknown[])[] });
  return out;
}

/** Past this many hosts to read, collectAll walks the build's routes with a policy (policyRoutes) instead of every route per key. */
const MANY_MISSING = 256;

function itemsOfRoutes(routes: readonly Route[], vh: VirtualHost, pick: Pick): readonly unknown[] {
  let found: unknown[] | undefined;
  for (const r of routes) {
    const v = pick(r, vh);
    if (v !== undefined) (found ??= []).push(v);
  }
  return found ?? NONE;
}

/** Per host index of a virtual host list, its routes that have a policy (undefined: none). */
function routesWithPolicy(vhosts: readonly VirtualHost[]): readonly (readonly Route[] | undefined)[] {
  const out = new Array<Route[] | undefined>(vhosts.length);
  for (let i = 0; i < vhosts.length; i++) {
    let found: Route[] | undefined;
    for (const r of vhosts[i]!.routes) if (r.policy !== undefined) (found ??= []).push(r);
    out[i] = found;
  }
  return out;
}

function filterContext(model: Model, opts: TranslateOptions, known: HostChanges | undefined): FilterContext {
  const thisBuild = new Map<string, readonly unknown[]>();
  let diff: HostDiff | undefined;
  let withPolicy: readonly (readonly Route[] | undefined)[] | undefined;
  const policyRoutes = () => (withPolicy ??= routesWithPolicy(model.virtualHosts));
  return {
    model,
    opts,
    collect<T>(key: string, pick: (route: Route, vh: VirtualHost) => T | undefined): readonly T[] {
      let out = thisBuild.get(key);
      if (!out) {
        diff ??= hostDiff(lastHosts, model.virtualHosts, known);
        thisBuild.set(key, (out = collectAll(model.virtualHosts, key, pick, diff, policyRoutes)));
      }
      return out as readonly T[];
    },
  };
}

// ---- contributor runs ----

type Method = 'httpFilters' | 'clusters' | 'secrets';

/** What one run of a contributor method read, and what it returned. */
interface Run {
  readonly opts: TranslateOptions;
  /** Model fields read, with the value read. */
  readonly fields: ReadonlyMap<PropertyKey, unknown>;
  /** Collected keys, with the pick used and the list returned. */
  readonly collects: ReadonlyMap<string, { readonly pick: Pick; readonly out: readonly unknown[] }>;
  readonly out: readonly JsonObject[];
}

let lastRuns = new WeakMap<ResourceContributor, Partial<Record<Method, Run>>>();

function sameElements(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function stillValid(run: Run, ctx: FilterContext): boolean {
  if (run.opts !== ctx.opts) return false;
  for (const [field, value] of run.fields) if (!sameValue(value, (ctx.model as unknown as Record<PropertyKey, unknown>)[field])) return false;
  for (const [key, c] of run.collects) if (ctx.collect(key, c.pick as (r: Route, vh: VirtualHost) => unknown) !== c.out) return false;
  return true;
}

/** Runs one contributor method (or gives its last output when what it read is unchanged). */
function runMethod(c: ResourceContributor, method: Method, ctx: FilterContext): readonly JsonObject[] {
  const fn = c[method];
  if (!fn) return NO_JSON;
  let runs = lastRuns.get(c);
  if (!runs) lastRuns.set(c, (runs = {}));
  const last = runs[method];
  if (last && stillValid(last, ctx)) return last.out;
  const fields = new Map<PropertyKey, unknown>();
  const collects = new Map<string, { pick: Pick; out: readonly unknown[] }>();
  const model = new Proxy(ctx.model, {
    get(target, p, receiver) {
      const v = Reflect.get(target, p, receiver) as unknown;
      fields.set(p, v);
      return v;
    },
  });
  const tracking: FilterContext = {
    model,
    opts: ctx.opts,
    collect<T>(key: string, pick: (route: Route, vh: VirtualHost) => T | undefined): readonly T[] {
      const out = ctx.collect(key, pick);
      collects.set(key, { pick, out });
      return out;
    },
  };
  const out = fn.call(c, tracking);
  runs[method] = { opts: ctx.opts, fields, collects, out };
  return out;
}

const NO_JSON: readonly JsonObject[] = [];
const NOTHING: Contributed = { httpFilters: [], clusters: [], secrets: [] };

/** The last result and the contributor outputs it was made of. */
let lastResult: { readonly outputs: readonly (readonly JsonObject[])[]; readonly result: Contributed } | undefined;

/** Forgets the last build's runs and collected values (see translate's resetTranslation). */
export function resetContributions(): void {
  lastCollected.clear();
  lastHosts = [];
  lastRuns = new WeakMap();
  lastResult = undefined;
}

/** The contributed filters, clusters and secrets; `changes`, when given, says how model.virtualHosts differs from an earlier list. */
export function contributedResources(model: Model, opts: TranslateOptions, changes?: HostChanges): Contributed {
  if (CONTRIBUTORS.length === 0) return NOTHING;
  const ctx = filterContext(model, opts, changes);
  const outputs: (readonly JsonObject[])[] = [];
  for (const c of CONTRIBUTORS) outputs.push(runMethod(c, 'httpFilters', ctx), runMethod(c, 'clusters', ctx), runMethod(c, 'secrets', ctx));
  lastHosts = model.virtualHosts;
  if (lastResult && sameValue(lastResult.outputs, outputs)) return lastResult.result;
  const httpFilters: JsonObject[] = [];
  const clusters = new Map<string, JsonObject>();
  const secrets = new Map<string, JsonObject>();
  for (let i = 0; i < outputs.length; i += 3) {
    httpFilters.push(...outputs[i]!);
    for (const cl of outputs[i + 1]!) clusters.set(resourceName(cl), cl);
    for (const s of outputs[i + 2]!) secrets.set(resourceName(s), s);
  }
  const sorted = (m: Map<string, JsonObject>): JsonObject[] => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  const result: Contributed = { httpFilters, clusters: sorted(clusters), secrets: sorted(secrets) };
  lastResult = { outputs, result };
  return result;
}
