// Private keys and passwords never leave the control plane in dumps or logs.
import type { Json, JsonObject } from '../xds/encode.js';
import type { EnvoyResources } from './resources.js';

export const REDACTED = '[redacted]';
const SECRET_KEYS = new Set(['private_key', 'password', 'client_secret', 'hmac_secret', 'token_secret', 'users', 'generic_secret']);

export function redactJson(value: Json): Json {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k) && v !== null ? REDACTED : redactJson(v);
    return out;
  }
  return value;
}

export function redactResources(r: EnvoyResources): EnvoyResources {
  return {
    listeners: r.listeners,
    // Basic auth users (password hashes) are set per route.
    routes: r.routes.map((rc) => redactJson(rc) as JsonObject),
    ...(r.scopedRoutes ? { scopedRoutes: r.scopedRoutes } : {}),
    clusters: r.clusters,
    endpoints: r.endpoints,
    secrets: r.secrets.map((s) => redactJson(s) as JsonObject),
  };
}
