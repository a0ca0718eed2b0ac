// Loads Envoy's data-plane-api protos from the tree that @grpc/grpc-js-xds ships
// under deps/ (envoy-api, xds, googleapis, protoc-gen-validate). No proto is copied
// into this repository.
//
// One protobufjs Root serves the encoder and the ADS service. It starts with the files
// of the xDS resources and the discovery service; any other package (an HTTP filter's
// config, say) is read the first time one of its types is looked up, so the control
// plane holds only the reflection of what it actually sends.
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

// The option extensions of Envoy's protos (validate, udpa annotations) extend
// google/protobuf/descriptor.proto, which protobufjs bundles as JSON but does not
// register by itself (@grpc/proto-loader does the same on import).
const descriptorJson = require('protobufjs/google/protobuf/descriptor.json') as { nested: { google: { nested: { protobuf: { nested: Record<string, unknown> } } } } };
protobuf.common('descriptor', descriptorJson.nested.google.nested.protobuf.nested);

/** Directories that hold the data-plane-api tree and its dependencies. */
export function protoIncludeDirs(): string[] {
  const pkg = require.resolve('@grpc/grpc-js-xds/package.json');
  const deps = path.join(path.dirname(pkg), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
}

/** The files loaded up front: the discovery service and every xDS resource type it serves. */
export const CORE_PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/route/v3/scoped_route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
] as const;

/**
 * The package directory of a fully qualified message name: the components before the
 * first capitalised one ("envoy.extensions.filters.http.cors.v3.CorsPolicy" →
 * "envoy/extensions/filters/http/cors/v3"); undefined for a name without a package.
 */
export function packageDirOf(typeName: string): string | undefined {
  const parts = typeName.replace(/^\./, '').split('.');
  const i = parts.findIndex((p) => /^[A-Z]/.test(p));
  if (i <= 0) return undefined;
  return parts.slice(0, i).join('/');
}

/** Every .proto file of a package directory, as include-relative paths (empty if none). */
function packageFiles(includes: readonly string[], dir: string): string[] {
  const out = new Set<string>();
  for (const inc of includes) {
    const abs = path.join(inc, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs)) if (f.endsWith('.proto')) out.add(`${dir}/${f}`);
  }
  return [...out].sort();
}

/** A Root that reads a package's files when one of its types is first looked up. */
class EnvoyRoot extends protobuf.Root {
  private readonly includes = protoIncludeDirs();
  private readonly triedDirs = new Set<string>();

  constructor() {
    super();
    this.resolvePath = (_origin: string, target: string): string | null => {
      if (path.isAbsolute(target)) return target;
      for (const dir of this.includes) {
        const candidate = path.join(dir, target);
        if (existsSync(candidate)) return candidate;
      }
      return null;
    };
  }

  /** Loads files (and what they import), field names kept as in the .proto (snake_case). */
  loadFiles(files: readonly string[]): void {
    this.loadSync([...files], { keepCase: true });
    this.resolveAll();
  }

  override lookupType(name: string | string[]): protobuf.Type {
    try {
      return super.lookupType(name);
    } catch (e) {
      const dir = typeof name === 'string' ? packageDirOf(name) : undefined;
      if (dir === undefined || this.triedDirs.has(dir)) throw e;
      this.triedDirs.add(dir);
      const files = packageFiles(this.includes, dir);
      const newer = NEWER_PACKAGES[dir];
      if (files.length) this.loadFiles(files);
      else if (newer) {
        this.addJSON(newer);
        this.resolveAll();
      } else throw e;
      return super.lookupType(name);
    }
  }
}

/**
 * Packages newer than the data-plane-api tree @grpc/grpc-js-xds ships (it predates Envoy
 * 1.33), declared here field by field with the numbers of Envoy's API reference, only the
 * fields xgate sends. Read like the tree's packages: on the first lookup of one of their types.
 *
 * - envoy.extensions.clusters.dns.v3.DnsCluster: the `envoy.cluster.dns` cluster type
 *   (Envoy 1.33+), which replaces the Cluster fields dns_refresh_rate and respect_dns_ttl
 *   (deprecated in Envoy 1.39: Envoy warns and counts each use).
 */
const NEWER_PACKAGES: Readonly<Record<string, NonNullable<protobuf.INamespace['nested']>>> = {
  'envoy/extensions/clusters/dns/v3': {
    envoy: { nested: { extensions: { nested: { clusters: { nested: {
      common: { nested: { dns: { nested: { v3: { nested: {
        DnsLookupFamily: { values: { UNSPECIFIED: 0, AUTO: 1, V4_ONLY: 2, V6_ONLY: 3, V4_PREFERRED: 4, ALL: 5 } },
      } } } } } },
      dns: { nested: { v3: { nested: {
        DnsCluster: {
          fields: {
            dns_refresh_rate: { type: 'google.protobuf.Duration', id: 3 },
            respect_dns_ttl: { type: 'bool', id: 5 },
            dns_jitter: { type: 'google.protobuf.Duration', id: 6 },
            dns_lookup_family: { type: 'envoy.extensions.clusters.common.dns.v3.DnsLookupFamily', id: 8 },
            all_addresses_in_single_endpoint: { type: 'bool', id: 9 },
          },
        },
      } } } },
    } } } } } },
  },
};

let root: EnvoyRoot | undefined;

/**
 * The protobufjs root of Envoy's API, field names kept as in the .proto (snake_case).
 * lookupType finds any type of the data-plane-api tree: a package not read yet is read
 * on first use (one directory of .proto files and its imports).
 */
export function envoyRoot(): protobuf.Root {
  if (root) return root;
  const r = new EnvoyRoot();
  r.loadFiles(CORE_PROTO_FILES);
  root = r;
  return r;
}

/** The ADS wire objects as the server and the test clients handle them (what @grpc/proto-loader would give). */
const WIRE_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: false, oneofs: true };

function serializer(type: protobuf.Type): (value: object) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    const bytes = type.encode(type.fromObject(value)).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => object {
  return (bytes) => type.toObject(type.decode(bytes), WIRE_OBJECT);
}

const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
let ads: Readonly<Record<string, grpc.ServiceDefinition>> | undefined;

/**
 * The ADS gRPC service definition (used by the server and the test clients), keyed by
 * the service's full name like a @grpc/proto-loader package definition. It is built from
 * envoyRoot() (messages keep snake_case names, 64-bit integers and enums as strings,
 * absent fields undefined, oneof names set), so the process parses the protos once.
 */
export function adsPackageDefinition(): Readonly<Record<string, grpc.ServiceDefinition>> {
  if (ads) return ads;
  const service = envoyRoot().lookupService(ADS_SERVICE);
  const def: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const m of service.methodsArray) {
    m.resolve();
    const req = m.resolvedRequestType!;
    const res = m.resolvedResponseType!;
    def[m.name] = {
      path: `/${ADS_SERVICE}/${m.name}`,
      requestStream: !!m.requestStream,
      responseStream: !!m.responseStream,
      requestSerialize: serializer(req),
      requestDeserialize: deserializer(req),
      responseSerialize: serializer(res),
      responseDeserialize: deserializer(res),
      originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
    };
  }
  ads = { [ADS_SERVICE]: def };
  return ads;
}
