// Fakes for admin tests: an AdminState over hand-built resources and snapshots.
import type { AdminState } from '../../control-plane/src/admin/state.js';
import type { Diagnostic } from '../../control-plane/src/diagnostics.js';
import type { EnvoyResources, GroupResources } from '../../control-plane/src/translate/resources.js';
import { resourceName, resourcesOf } from '../../control-plane/src/translate/resources.js';
import { snapshotOf, typeSnapshot } from '../../control-plane/src/xds/cache/snapshot.js';
import type { Resource, Snapshot } from '../../control-plane/src/xds/cache/types.js';
import { TYPE_URLS, type TypeUrl } from '../../control-plane/src/xds/type-urls.js';

export const SECRET_RESOURCE = {
  name: 'ns/s',
  tls_certificate: {
    certificate_chain: { inline_string: 'CERT' },
    private_key: { inline_string: 'KEY' },
  },
};

export function envoyResources(): EnvoyResources {
  return {
    listeners: [{ name: 'https', address: { socket_address: { address: '0.0.0.0', port_value: 8443 } } }],
    routes: [{ name: 'https', virtual_hosts: [] }],
    clusters: [{ name: 'ns/svc/80', type: 'EDS' }, { name: 'ns/api/8080', type: 'EDS' }],
    endpoints: [{ cluster_name: 'ns/svc/80', endpoints: [] }],
    secrets: [SECRET_RESOURCE],
  };
}


/** A Snapshot of the resources without protobuf encoding: bytes are the JSON, version a fake hash. */
export function fakeSnapshot(r: EnvoyResources, salt = ''): Snapshot {
  const types = {} as Record<TypeUrl, ReturnType<typeof typeSnapshot>>;
  for (const typeUrl of TYPE_URLS) {
    const map = new Map<string, Resource>();
    for (const res of resourcesOf(r, typeUrl)) {
      const name = resourceName(res);
      map.set(name, { typeUrl, name, version: `v-${name}${salt}`, bytes: new TextEncoder().encode(JSON.stringify(res)) });
    }
    types[typeUrl] = typeSnapshot(map);
  }
  return snapshotOf(types);
}

export class FakeState implements AdminState {
  ready = false;
  groupResources: GroupResources | undefined;
  snaps: Record<string, Snapshot> = {};
  diags: Diagnostic[] = [];
  isReady(): boolean {
    return this.ready;
  }
  resources(): GroupResources | undefined {
    return this.groupResources;
  }
  snapshots(): Readonly<Record<string, Snapshot>> {
    return this.snaps;
  }
  diagnostics(): readonly Diagnostic[] {
    return this.diags;
  }
}

export function publishedState(): FakeState {
  const s = new FakeState();
  const r = envoyResources();
  s.groupResources = { envoy: r };
  s.snaps = { envoy: fakeSnapshot(r) };
  s.ready = true;
  return s;
}

export const DIAGNOSTICS: Diagnostic[] = [
  {
    code: 'XG_SERVICE_NOT_FOUND',
    level: 'error',
    object: { kind: 'Ingress', namespace: 'shop', name: 'web' },
    message: 'Service shop/missing does not exist',
    field: 'spec.rules[0].http.paths[0].backend.service.name',
  },
  {
    code: 'XG_ANNOTATION_UNKNOWN',
    level: 'warning',
    object: { kind: 'Ingress', namespace: 'shop', name: 'web' },
    message: 'unknown annotation xgate.io/foo',
  },
  {
    code: 'XG_SERVICE_NOT_FOUND',
    level: 'error',
    object: { kind: 'Ingress', namespace: 'blog', name: 'site' },
    message: 'Service blog/gone does not exist',
  },
];
