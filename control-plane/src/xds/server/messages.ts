// The ADS wire messages as @grpc/proto-loader hands them over (keepCase, defaults
// off: every absent field is undefined), and as the server writes them.
// Only the fields xgate reads or writes are declared.

export interface ProtoValue {
  null_value?: string | number | null;
  number_value?: number;
  string_value?: string;
  bool_value?: boolean;
  struct_value?: ProtoStruct | null;
  list_value?: { values?: ProtoValue[] } | null;
  kind?: string;
}

export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

/** envoy.config.core.v3.Node */
export interface ProtoNode {
  id?: string;
  cluster?: string;
  metadata?: ProtoStruct | null;
  user_agent_name?: string;
  user_agent_version?: string;
}

/** google.rpc.Status */
export interface RpcStatus {
  code?: number;
  message?: string;
}

/** google.protobuf.Any; `value` is the Resource's shared bytes. */
export interface AnyMessage {
  readonly type_url: string;
  readonly value: Uint8Array;
}

export interface DiscoveryRequest {
  version_info?: string;
  node?: ProtoNode | null;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: RpcStatus | null;
}

export interface DiscoveryResponse {
  version_info: string;
  resources: readonly AnyMessage[];
  type_url: string;
  nonce: string;
}

export interface DeltaDiscoveryRequest {
  node?: ProtoNode | null;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus | null;
}

/** envoy.service.discovery.v3.Resource */
export interface DeltaResource {
  readonly name: string;
  readonly version: string;
  readonly resource: AnyMessage;
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: readonly DeltaResource[];
  type_url: string;
  removed_resources: readonly string[];
  nonce: string;
}
