// Loads Envoy's data-plane-api protos from the tree that @grpc/grpc-js-xds ships
// under deps/ (envoy-api, xds, googleapis, protoc-gen-validate). No proto is copied
// into this repository.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

/** Directories that hold the data-plane-api tree and its dependencies. */
export function protoIncludeDirs(): string[] {
  const pkg = require.resolve('@grpc/grpc-js-xds/package.json');
  const deps = path.join(path.dirname(pkg), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d));
}

/** Every proto file whose messages xgate sends, receives or nests in an Any. */
export const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/oauth2/v3/oauth.proto',
  'envoy/extensions/filters/http/basic_auth/v3/basic_auth.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/http/wasm/v3/wasm.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/custom_response/v3/custom_response.proto',
  'envoy/extensions/http/custom_response/redirect_policy/v3/redirect_policy.proto',
  'envoy/type/matcher/v3/http_inputs.proto',
  'envoy/type/matcher/v3/status_code_input.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/http/custom_response/local_response_policy/v3/local_response_policy.proto',
  'envoy/extensions/transport_sockets/quic/v3/quic_transport.proto',
  'envoy/extensions/filters/http/header_mutation/v3/header_mutation.proto',
] as const;

let root: protobuf.Root | undefined;

/** The protobufjs root with every file above, field names kept as in the .proto (snake_case). */
export function envoyRoot(): protobuf.Root {
  if (root) return root;
  const includes = protoIncludeDirs();
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string): string | null => {
    if (path.isAbsolute(target)) return target;
    for (const dir of includes) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return null;
  };
  r.loadSync([...PROTO_FILES], { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}

/** proto-loader package definition for the ADS gRPC service (used by the server and test clients). */
export function adsPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(['envoy/service/discovery/v3/ads.proto'], {
    includeDirs: protoIncludeDirs(),
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
}


