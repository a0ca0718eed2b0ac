// H/M `destination` (docs/routing.md): the Ingress's routes split their traffic between
// Services by weight, one line per Service (Higress's grammar):
//
//   [<weight>%] <service>.<namespace>.svc[.cluster.local][:<port>]
//
// weight: a whole number 0-100, default 100; the weights must add up to 100. port: the
// Service port; it may be left out when the Service has exactly one. Only Services of the
// Ingress's own namespace (another namespace could be a way into another team's Service).
// Higress's optional subset column is not supported. Any problem: XG_ROUTING_DESTINATION_INVALID,
// and the Ingress keeps its own backends.
import type { AnnotationFamily, FamilyContext } from '../family.js';
import type { AnnotationReader, AnnotationValue } from '../reader.js';
import type { WeightedBackend } from '../../model/ir.js';
import { resolveBackend } from '../../model/backends.js';
import { isDnsLabel } from '../../model/names.js';
import { HIGRESS, field } from './grammar.js';

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** The Ingress's routes forward to these clusters by weight instead of their own backends. */
    readonly destination?: readonly WeightedBackend[];
  }
}

const MAX_LINES = 64;
const LINE = /^(?:(\d{1,3})%\s+)?([a-z0-9.-]+?)(?::(\d{1,5}))?(?:\s+(\S+))?$/;

export interface DestinationLine {
  readonly weight: number;
  readonly service: string;
  readonly namespace: string;
  readonly port?: number;
}

/** Parses the value; an error message for the first bad line. */
export function parseDestination(value: string): { ok: true; lines: DestinationLine[] } | { ok: false; why: string } {
  const lines: DestinationLine[] = [];
  const raw = value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (raw.length === 0) return { ok: false, why: 'names no Service' };
  if (raw.length > MAX_LINES) return { ok: false, why: `has more than ${MAX_LINES} lines` };
  for (const l of raw) {
    const m = LINE.exec(l);
    if (!m) return { ok: false, why: `line ${JSON.stringify(l.slice(0, 200))} is not "[<weight>%] <service>.<namespace>.svc.cluster.local[:<port>]"` };
    if (m[4] !== undefined) return { ok: false, why: `line ${JSON.stringify(l)}: subsets ("${m[4]}") are not supported` };
    const weight = m[1] === undefined ? 100 : Number(m[1]);
    if (weight > 100) return { ok: false, why: `line ${JSON.stringify(l)}: a weight is at most 100 %` };
    const parts = m[2]!.split('.');
    const svcSuffix = parts.length === 3 && parts[2] === 'svc' ? 3 : parts.length === 5 && parts.slice(2).join('.') === 'svc.cluster.local' ? 5 : 0;
    if (!svcSuffix || !isDnsLabel(parts[0]) || !isDnsLabel(parts[1])) {
      return { ok: false, why: `line ${JSON.stringify(l)}: the host must be <service>.<namespace>.svc.cluster.local (or <service>.<namespace>.svc)` };
    }
    const port = m[3] === undefined ? undefined : Number(m[3]);
    if (port !== undefined && (port < 1 || port > 65535)) return { ok: false, why: `line ${JSON.stringify(l)}: port ${port} is not 1-65535` };
    lines.push({ weight, service: parts[0]!, namespace: parts[1]!, ...(port !== undefined ? { port } : {}) });
  }
  const sum = lines.reduce((a, b) => a + b.weight, 0);
  if (sum !== 100) return { ok: false, why: `the weights add up to ${sum} %, not 100 %` };
  return { ok: true, lines };
}

export const destinationFamily: AnnotationFamily = {
  name: 'routing-destination',
  parse(r, ctx) {
    const v = r.get('destination', HIGRESS);
    if (!v) return undefined;
    const destination = resolveDestination(r, ctx, v);
    if (!destination) return undefined;
    return { destination };
  },
};

function resolveDestination(r: AnnotationReader, ctx: FamilyContext, v: AnnotationValue): WeightedBackend[] | undefined {
  const fail = (why: string): undefined => {
    r.sink.error('XG_ROUTING_DESTINATION_INVALID', ctx.ref, `${v.annotation}: ${why}; the Ingress keeps its own backends`, field(v));
    return undefined;
  };
  const parsed = parseDestination(v.value);
  if (!parsed.ok) return fail(parsed.why);
  const backends: { service: string; port: number; weight: number }[] = [];
  for (const l of parsed.lines) {
    if (l.namespace !== ctx.namespace) return fail(`${l.service}.${l.namespace} is in another namespace than the Ingress (${ctx.namespace})`);
    let port = l.port;
    if (port === undefined) {
      const ports = ctx.store.services.get(`${ctx.namespace}/${l.service}`)?.spec?.ports;
      if (!Array.isArray(ports) || ports.length !== 1) return fail(`${l.service}.${l.namespace} names no port and the Service does not have exactly one`);
      port = ports[0]!.port;
    }
    const res = resolveBackend(ctx.namespace, { service: { name: l.service, port: { number: port } } }, ctx.store);
    if (!res.ok) return fail(res.message);
    if (backends.some((b) => b.service === l.service && b.port === port)) return fail(`${l.service}:${port} appears twice`);
    backends.push({ service: l.service, port: port!, weight: l.weight });
  }
  // Every line resolved: only now register the clusters (none is added for a rejected split).
  const out: WeightedBackend[] = [];
  for (const b of backends) {
    if (b.weight === 0) continue;
    const res = ctx.useBackend({ service: { name: b.service, port: { number: b.port } } });
    if (res.ok) out.push({ cluster: res.cluster.name, weight: b.weight });
  }
  return out;
}
