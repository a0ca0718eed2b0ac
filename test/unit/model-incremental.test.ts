// The incremental model builder (model/build.ts) must give exactly what a fresh builder
// gives for the same store, whatever sequence of changes led there: hosts replayed or
// kept, clusters counted, cluster policies reused. A seeded random walk of changes over
// a generated store (claims in conflict, canaries, TLS, cluster policies, missing
// Services and Secrets, removals and re-additions) compares the two after every step.
import { describe, expect, it } from 'vitest';
import { benchCert } from '../../bench/cert.js';
import { generate, rng } from '../../bench/generate.js';
import { sortDiagnostics } from '../../control-plane/src/diagnostics.js';
import { ModelBuilder, type ModelBuild } from '../../control-plane/src/model/build.js';
import { DEFAULT_MODEL_OPTIONS } from '../../control-plane/src/model/options.js';
import type { Ingress, Secret, Service, WatchedObject } from '../../control-plane/src/sources/k8s-types.js';
import { objectKey, Store, type StoreSnapshot } from '../../control-plane/src/sources/store.js';
import { WATCHED_KINDS } from '../../control-plane/src/sources/k8s-types.js';

const OPTS = { ...DEFAULT_MODEL_OPTIONS, watchWithoutClass: true };

function view(b: ModelBuild): unknown {
  return JSON.parse(JSON.stringify({ model: b.model, diagnostics: sortDiagnostics(b.diagnostics), ingresses: b.ingresses, urls: b.externalUrls }));
}

function fresh(snap: StoreSnapshot): unknown {
  return view(new ModelBuilder().build(snap, OPTS));
}

describe('incremental model builder', () => {
  it('equals a fresh build after every step of a random walk of changes', () => {
    const gen = generate({ ingresses: 90, cert: benchCert(), seed: 11, namespaces: 3 });
    const store = new Store();
    store.replace(gen.objects, WATCHED_KINDS);
    const inc = new ModelBuilder();
    const first = inc.build(store.snapshot(), OPTS);
    expect(view(first)).toEqual(fresh(store.snapshot()));

    const r = rng(5);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    let rv = 1;
    const bump = <T extends WatchedObject>(o: T): T => ({ ...o, metadata: { ...o.metadata, resourceVersion: `t${rv++}` } });
    const ingresses = () => [...store.snapshot().ingresses.values()];
    const removed: WatchedObject[] = [];
    const hosts = gen.ingresses.flatMap((i) => (i.spec?.rules ?? []).map((rule) => rule.host).filter((h): h is string => typeof h === 'string'));

    const mutations: Array<() => void> = [
      // a host taken from another Ingress: path claims in conflict, canaries losing or finding primaries
      () => {
        const ing = structuredClone(pick(ingresses()));
        const rule = ing.spec?.rules?.[0];
        if (rule) rule.host = pick(hosts);
        store.upsert(bump(ing));
      },
      // a path changed
      () => {
        const ing = structuredClone(pick(ingresses()));
        const p = ing.spec?.rules?.[0]?.http?.paths?.[0];
        if (p) p.path = pick(['/', '/api', '/v2', '/static']);
        store.upsert(bump(ing));
      },
      // a backend that does not exist
      () => {
        const ing = structuredClone(pick(ingresses()));
        const p = ing.spec?.rules?.[0]?.http?.paths?.[0];
        if (p?.backend?.service) p.backend.service.name = `missing-${rv}`;
        store.upsert(bump(ing));
      },
      // removed, and later added back
      () => {
        const ing = pick(ingresses());
        store.remove('Ingress', objectKey(ing));
        removed.push(ing);
      },
      () => {
        const o = removed.pop();
        if (o) store.upsert(bump(o));
      },
      // a default backend (the catch-all host's fallback: first one wins)
      () => {
        const ing = structuredClone(pick(ingresses()));
        const b = ing.spec?.rules?.[0]?.http?.paths?.[0]?.backend;
        if (b && ing.spec) ing.spec.defaultBackend = b;
        store.upsert(bump(ing));
      },
      // canary on and off
      () => {
        const ing = structuredClone(pick(ingresses())) as Ingress;
        const a = { ...(ing.metadata.annotations ?? {}) };
        if (a['nginx.ingress.kubernetes.io/canary'] === 'true') delete a['nginx.ingress.kubernetes.io/canary'];
        else {
          a['nginx.ingress.kubernetes.io/canary'] = 'true';
          a['nginx.ingress.kubernetes.io/canary-weight'] = String(Math.floor(r() * 100));
        }
        ing.metadata.annotations = a;
        store.upsert(bump(ing));
      },
      // cluster-level wishes in conflict (load balancing, warmup)
      () => {
        const ing = structuredClone(pick(ingresses())) as Ingress;
        ing.metadata.annotations = {
          ...(ing.metadata.annotations ?? {}),
          'nginx.ingress.kubernetes.io/load-balance': pick(['round_robin', 'least_conn', 'random']),
          'higress.io/warmup': pick(['0', '30', '60']),
        };
        store.upsert(bump(ing));
      },
      // app-root and a per-domain setting (host policy)
      () => {
        const ing = structuredClone(pick(ingresses())) as Ingress;
        ing.metadata.annotations = {
          ...(ing.metadata.annotations ?? {}),
          'nginx.ingress.kubernetes.io/app-root': pick(['/app', '/home']),
          'mse.ingress.kubernetes.io/domain-whitelist-source-range': pick(['10.0.0.0/8', '192.168.0.0/16']),
        };
        store.upsert(bump(ing));
      },
      // TLS entry naming a missing Secret, or another Ingress's host
      () => {
        const ing = structuredClone(pick(ingresses()));
        if (ing.spec) ing.spec.tls = [{ hosts: [pick(hosts)], secretName: pick(['missing-cert', ...(ing.spec.tls ?? []).map((t) => t.secretName ?? 'x')]) }];
        store.upsert(bump(ing));
      },
      // a Service removed or annotated
      () => {
        const svc = pick([...store.snapshot().services.values()]) as Service;
        if (r() < 0.3) store.remove('Service', objectKey(svc));
        else store.upsert(bump({ ...svc, metadata: { ...svc.metadata, annotations: { 'nginx.ingress.kubernetes.io/load-balance': pick(['ewma', 'least_conn']) } } }));
      },
      // a TLS Secret broken
      () => {
        const secrets = [...store.snapshot().secrets.values()] as Secret[];
        if (!secrets.length) return;
        const s = pick(secrets);
        store.upsert(bump({ ...s, data: { 'tls.crt': s.data?.['tls.crt'] ?? '' } }));
      },
      // a Service or a Secret removed, and later added back (the Ingresses that read it, and only those, are worked out again)
      () => {
        const snap = store.snapshot();
        const kind = pick(['Service', 'Secret'] as const);
        const all = [...(kind === 'Service' ? snap.services : snap.secrets).values()] as WatchedObject[];
        if (!all.length) return;
        const o = pick(all);
        store.remove(kind, objectKey(o));
        removedOthers.push(o);
      },
      () => {
        const o = removedOthers.pop();
        if (o) store.upsert(bump(o));
      },
      // Basic authentication naming a Secret that comes, changes and goes
      () => {
        const ing = structuredClone(pick(ingresses())) as Ingress;
        ing.metadata.annotations = { ...(ing.metadata.annotations ?? {}), 'nginx.ingress.kubernetes.io/auth-type': 'basic', 'nginx.ingress.kubernetes.io/auth-secret': `basic-${Math.floor(r() * 3)}` };
        store.upsert(bump(ing));
      },
      () => secretComesAndGoes(`basic-${Math.floor(r() * 3)}`, { auth: Buffer.from(`user${rv}:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n`).toString('base64') }),
      // a Service asking for HTTPS to its backends, verified with the CA of a Secret that comes, changes and goes
      () => {
        const svc = pick([...store.snapshot().services.values()]) as Service;
        store.upsert(
          bump({
            ...svc,
            metadata: {
              ...svc.metadata,
              annotations: { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS', 'nginx.ingress.kubernetes.io/proxy-ssl-secret': `ca-${Math.floor(r() * 2)}`, 'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on' },
            },
          }),
        );
      },
      () => secretComesAndGoes(`ca-${Math.floor(r() * 2)}`, { 'ca.crt': Buffer.from(r() < 0.7 ? benchCert().cert : 'not a certificate').toString('base64') }),
    ];
    const removedOthers: WatchedObject[] = [];
    /** Upserts the Secret in every namespace that has Services (or removes it: one time in three). */
    const secretComesAndGoes = (name: string, data: Record<string, string>): void => {
      const namespaces = new Set([...store.snapshot().services.values()].map((s) => s.metadata.namespace!));
      for (const ns of namespaces) {
        if (r() < 0.33) store.remove('Secret', `${ns}/${name}`);
        else store.upsert({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: ns, name, resourceVersion: `t${rv++}` }, data } as unknown as WatchedObject);
      }
    };

    let lastHosts: readonly unknown[] = first.model.virtualHosts;
    let hinted = 0;
    for (let step = 0; step < 200; step++) {
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) pick(mutations)();
      const snap = store.snapshot();
      // Sometimes the builder is handed a snapshot it cannot relate to the last one.
      const given = r() < 0.1 ? ({ ...snap, seq: undefined, ingressChangesSince: undefined, changesSince: undefined } as StoreSnapshot) : snap;
      const built = inc.build(given, OPTS);
      // What the builder says of its virtual hosts holds: only the elements at `at` differ from the list it names.
      const told = built.changes?.virtualHosts;
      if (told) {
        expect(told.from, `step ${step}`).toBe(lastHosts);
        expect(told.from.length).toBe(built.model.virtualHosts.length);
        const at = new Set(told.at);
        built.model.virtualHosts.forEach((vh, i) => {
          if (!at.has(i)) expect(vh, `step ${step} host ${i}`).toBe(told.from[i]);
        });
        hinted++;
      }
      lastHosts = built.model.virtualHosts;
      const got = view(built);
      expect(got, `step ${step}`).toEqual(fresh(snap));
    }
    // Changes in place (a path, an annotation) are common in the walk: the builder told of some.
    expect(hinted).toBeGreaterThan(10);
  });

  it('is correct when handed unrelated stores in turn', () => {
    const a = generate({ ingresses: 40, cert: benchCert(), seed: 1, namespaces: 2 });
    const b = generate({ ingresses: 30, cert: benchCert(), seed: 2, namespaces: 2 });
    const sa = new Store();
    sa.replace(a.objects, WATCHED_KINDS);
    const sb = new Store();
    sb.replace(b.objects, WATCHED_KINDS);
    const inc = new ModelBuilder();
    for (const s of [sa, sb, sa, sa, sb]) expect(view(inc.build(s.snapshot(), OPTS))).toEqual(fresh(s.snapshot()));
  });
});
