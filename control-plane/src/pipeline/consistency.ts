// The last check before a snapshot is published: every name a resource refers to
// exists in the same snapshot. A failure here is an xgate bug, never user input.
import type { Json } from '../xds/encode.js';
import type { EnvoyResources } from '../translate/resources.js';
import { resourceName } from '../translate/resources.js';

export function checkConsistency(r: EnvoyResources): string[] {
  const problems: string[] = [];
  const routes = new Set(r.routes.map(resourceName));
  const clusters = new Set(r.clusters.map(resourceName));
  const secrets = new Set(r.secrets.map(resourceName));
  const assignments = new Set(r.endpoints.map(resourceName));
  for (const l of r.listeners) {
    walk(l, (key, value) => {
      if (key === 'route_config_name' && typeof value === 'string' && !routes.has(value)) {
        problems.push(`listener ${resourceName(l)} refers to missing route configuration ${value}`);
      }
      if (key === 'tls_certificate_sds_secret_configs' && Array.isArray(value)) {
        for (const s of value) {
          const name = (s as { name?: unknown }).name;
          if (typeof name === 'string' && !secrets.has(name)) problems.push(`listener ${resourceName(l)} refers to missing secret ${name}`);
        }
      }
    });
  }
  for (const rc of r.routes) {
    walk(rc, (key, value, parent) => {
      if (key === 'cluster' && typeof value === 'string' && !clusters.has(value)) {
        problems.push(`route configuration ${resourceName(rc)} refers to missing cluster ${value}`);
      }
      if (key === 'name' && typeof value === 'string' && parent && 'weight' in parent && !clusters.has(value)) {
        problems.push(`route configuration ${resourceName(rc)} refers to missing weighted cluster ${value}`);
      }
    });
  }
  for (const c of r.clusters) {
    if (c['type'] === 'EDS' && !assignments.has(resourceName(c))) problems.push(`cluster ${resourceName(c)} has no endpoints resource`);
  }
  return problems;
}

function walk(v: Json, visit: (key: string, value: Json, parent: Record<string, Json> | undefined) => void): void {
  if (Array.isArray(v)) {
    for (const x of v) walk(x, visit);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      visit(k, x, v);
      walk(x, visit);
    }
  }
}
