// The model in the middle: what the gateway should do, with no Envoy (proto) types.
// Built from the store by model/build.ts; turned into Envoy resources by translate/.
import { flat } from './flat.js';
import type { ObjectRef } from '../diagnostics.js';

export interface Model {
  /** Virtual hosts served on the plain HTTP listener, sorted by host; `*` is the catch-all. */
  readonly virtualHosts: readonly VirtualHost[];
  /** Hosts served on the HTTPS listener (SNI), sorted by host. Their routes are the HTTP vhost's. */
  readonly tlsHosts: readonly TlsHost[];
  /** Upstream clusters, sorted by name. */
  readonly clusters: readonly Cluster[];
  /** TLS certificates delivered by SDS, sorted by name. */
  readonly secrets: readonly TlsSecret[];
}

/**
 * How a list of the model differs from an earlier model's list, when the builder knows:
 * the same length, the elements at `at` (ascending) replaced, every other the same object.
 * Lets translation patch what it derived from `from` instead of comparing every element.
 */
export interface ReplacedInPlace<T> {
  readonly from: readonly T[];
  readonly at: readonly number[];
}

/** What the model builder knows about how this model differs from the last one it built. */
export interface ModelChanges {
  readonly virtualHosts?: ReplacedInPlace<VirtualHost>;
}

/** Endpoints are built apart from the rest so endpoint churn never rebuilds routes. */
export interface EndpointModel {
  readonly clusters: readonly ClusterEndpoints[];
}

export interface VirtualHost {
  /** `foo.example.com`, `*.example.com` (one label) or `*`. */
  readonly host: string;
  /** In match order: the first route that matches wins. */
  readonly routes: readonly Route[];
  /** Domain-level policy merged from the host's Ingresses (see HostPolicy). */
  readonly policy?: HostPolicy;
}

/**
 * Domain-level policies (one optional field per family, declared by declaration merging
 * like RoutePolicy): merged per host from every Ingress that serves it, oldest first.
 * They apply to the virtual host (and, for TLS settings, to the host's HTTPS filter chain).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface HostPolicy {}

export interface Route {
  /** Unique within the virtual host and stable across restarts. */
  readonly name: string;
  readonly match: RouteMatch;
  readonly action: RouteAction;
  /** The object the route comes from (diagnostics, debug). */
  readonly source: ObjectRef;
  /** What the route's annotations ask for, one typed field per family (see annotations/). */
  readonly policy?: RoutePolicy;
}

/**
 * Route policies, one optional field per annotation family. Each family declares its
 * field in its own module (`declare module '../model/ir.js' { interface RoutePolicy … }`),
 * so families never edit a shared file.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface RoutePolicy {
  /** A security family could not parse its value: the route answers this and nothing else. */
  readonly failClosed?: { readonly status: number; readonly reason: string };
}

export type PathMatch = (
  /** the path equals value */
  | { readonly type: 'Exact'; readonly value: string }
  /** Kubernetes Prefix: element-wise; value has no trailing slash ('/' matches everything) */
  | { readonly type: 'Prefix'; readonly value: string }
  /** plain string prefix (ImplementationSpecific, as ingress-nginx) */
  | { readonly type: 'StringPrefix'; readonly value: string }
  /** RE2 regex (checked before it gets here) over the whole path, or with `prefix` over its beginning */
  | { readonly type: 'Regex'; readonly value: string; readonly prefix?: boolean }
) & {
  /** Case-insensitive match (H `ignore-path-case`, nginx regex paths). */
  readonly ignoreCase?: boolean;
};

export interface HeaderMatch {
  readonly name: string;
  readonly match: { readonly type: 'Exact' | 'Regex' | 'Prefix'; readonly value: string } | { readonly type: 'Present' };
  readonly invert?: boolean;
}

export interface RouteMatch {
  readonly path: PathMatch;
  readonly headers?: readonly HeaderMatch[];
  readonly queryParams?: readonly HeaderMatch[];
}

export interface WeightedBackend {
  /** Cluster name (see Cluster.name). */
  readonly cluster: string;
  readonly weight: number;
}

export type RouteAction =
  | { readonly kind: 'forward'; readonly backends: readonly WeightedBackend[]; readonly totalWeight?: number }
  /** Answer directly, e.g. 503 for a backend that cannot be resolved, 403 for a route that fails closed. */
  | { readonly kind: 'direct'; readonly status: number; readonly body?: string }
  /** Answer with a redirect: the parts given replace the request's (see model/routing.ts). */
  | RedirectAction;

export interface RedirectAction {
  readonly kind: 'redirect';
  readonly code: 301 | 302 | 303 | 307 | 308;
  readonly scheme?: 'http' | 'https';
  readonly host?: string;
  readonly port?: number;
  /** The new path, possibly with a query (which then replaces the request's). */
  readonly path?: string;
  /** Drop the request's query string. */
  readonly stripQuery?: boolean;
}

export interface Cluster {
  /** `<namespace>/<service>/<port>`: injective, since every part is a validated DNS name or a number. */
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
  /** The Service port's name ('' when unnamed): EndpointSlice ports are matched by it. */
  readonly portName: string;
  /** Cluster-level policy (e.g. warmup), from the Service's and its Ingresses' annotations. */
  readonly policy?: ClusterPolicy;
}

/**
 * Cluster policies, one optional field per feature, declared by declaration merging
 * in the feature's own module (as RoutePolicy), e.g. model/cluster-policy.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ClusterPolicy {}

export interface TlsHost {
  /** `foo.example.com` or `*.example.com`. */
  readonly host: string;
  /** Secret name (see TlsSecret.name). */
  readonly secret: string;
  /** The host's domain-level policy (the same object as its VirtualHost's). */
  readonly policy?: HostPolicy;
}

export interface TlsSecret {
  /** `<namespace>/<secret>`. */
  readonly name: string;
  readonly certificateChain: string;
  readonly privateKey: string;
  readonly source: ObjectRef;
}

export interface ClusterEndpoints {
  readonly cluster: string;
  /** Sorted by address, then port. */
  readonly endpoints: readonly Endpoint[];
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  /** ready → HEALTHY; serving && terminating → DRAINING. */
  readonly health: 'HEALTHY' | 'DRAINING';
  readonly zone?: string;
}

export function clusterName(namespace: string, service: string, port: number): string {
  return flat(`${namespace}/${service}/${port}`);
}

export function secretName(namespace: string, name: string): string {
  return flat(`${namespace}/${name}`);
}
