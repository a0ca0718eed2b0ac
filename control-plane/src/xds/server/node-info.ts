// Turns the Node of a stream's first request into the NodeInfo the cache and the
// observers see. google.protobuf.Struct metadata becomes plain JSON.
import type { NodeInfo } from '../cache/types.js';
import type { ProtoNode, ProtoStruct, ProtoValue } from './messages.js';

export function nodeInfoOf(node: ProtoNode): NodeInfo {
  return {
    id: node.id ?? '',
    cluster: node.cluster ?? '',
    userAgentName: node.user_agent_name ?? '',
    metadata: structToJson(node.metadata ?? undefined),
  };
}

export function structToJson(s: ProtoStruct | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s?.fields ?? {})) out[k] = valueToJson(v);
  return out;
}

function valueToJson(v: ProtoValue | undefined): unknown {
  if (!v) return null;
  if (v.struct_value) return structToJson(v.struct_value);
  if (v.list_value) return (v.list_value.values ?? []).map(valueToJson);
  if (v.string_value !== undefined) return v.string_value;
  if (v.number_value !== undefined) return v.number_value;
  if (v.bool_value !== undefined) return v.bool_value;
  return null;
}
