// IP allow/deny lists at the route and domain levels (the instance level comes from the
// serve options, see translate/access/rbac.ts):
//   route:  N/H `whitelist-source-range`, N/M `denylist-source-range`, M `blacklist-source-range`
//   domain: M `domain-whitelist-source-range`, `domain-blacklist-source-range`
// (all also under X). The most specific level that sets a list decides (route > domain >
// instance); inside a level deny wins over allow. A list that does not parse makes the
// route — or, at the domain level, every route of the host — answer 403.
import type { AnnotationFamily } from '../family.js';
import type { AnnotationReader, AnnotationValue } from '../reader.js';
import type { Prefix } from '../prefixes.js';
import { cidrString, parseCidrList } from './cidr.js';

/** One level's lists, as normalised `address/prefix` strings (sorted, unique). */
export interface IpAccessLists {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  /** A list did not parse: everything is denied at this level. */
  readonly invalid?: true;
}

declare module '../../model/ir.js' {
  interface RoutePolicy {
    /** Route-level IP lists (decides over the domain and instance levels). */
    readonly ipAccess?: IpAccessLists;
  }
  interface HostPolicy {
    /** Domain-level IP lists (decides over the instance level, for routes without their own). */
    readonly ipAccess?: IpAccessLists;
  }
}

interface KeySpec {
  readonly key: string;
  readonly prefixes: readonly Prefix[];
  readonly kind: 'allow' | 'deny';
}

const ROUTE_KEYS: readonly KeySpec[] = [
  { key: 'whitelist-source-range', prefixes: ['N', 'H', 'X'], kind: 'allow' },
  { key: 'denylist-source-range', prefixes: ['N', 'M', 'X'], kind: 'deny' },
  { key: 'blacklist-source-range', prefixes: ['M', 'X'], kind: 'deny' },
];

const HOST_KEYS: readonly KeySpec[] = [
  { key: 'domain-whitelist-source-range', prefixes: ['M', 'X'], kind: 'allow' },
  { key: 'domain-blacklist-source-range', prefixes: ['M', 'X'], kind: 'deny' },
];

interface ReadResult {
  readonly lists?: IpAccessLists;
  readonly bad?: AnnotationValue;
}

/**
 * Reads one level's keys. With `report`, every problem becomes a diagnostic; without,
 * the keys are only read (the domain keys are read twice: for the host policy, which
 * reports, and for the carrying Ingress's own routes, which must fail closed too).
 */
function readLevel(r: AnnotationReader, keys: readonly KeySpec[], report: boolean): ReadResult {
  const allow = new Set<string>();
  const deny = new Set<string>();
  let any = false;
  let bad: AnnotationValue | undefined;
  for (const k of keys) {
    const v = r.get(k.key, k.prefixes);
    if (!v) continue;
    any = true;
    const parsed = parseCidrList(v.value);
    if (!parsed.ok) {
      if (report) {
        r.sink.error('XG_IP_RANGE_INVALID', r.ref, `${v.annotation}=${JSON.stringify(v.value.length > 200 ? `${v.value.slice(0, 200)}…` : v.value)}: ${parsed.why}; ${keys === HOST_KEYS ? 'every route of its hosts answers' : 'the routes of this Ingress answer'} 403`, `metadata.annotations["${v.annotation}"]`);
      }
      bad ??= v;
      continue;
    }
    if (report && parsed.hostBits.length) {
      r.sink.warning('XG_IP_RANGE_HOST_BITS', r.ref, `${v.annotation}: ${parsed.hostBits.join('; ')}`, `metadata.annotations["${v.annotation}"]`);
    }
    for (const c of parsed.cidrs) (k.kind === 'allow' ? allow : deny).add(cidrString(c));
  }
  if (!any) return {};
  if (bad) return { lists: { invalid: true }, bad };
  const sorted = (s: Set<string>) => [...s].sort();
  return { lists: { ...(allow.size ? { allow: sorted(allow) } : {}), ...(deny.size ? { deny: sorted(deny) } : {}) } };
}

export const ipAccessFamily: AnnotationFamily = {
  name: 'ip-access',
  parse(r) {
    const route = readLevel(r, ROUTE_KEYS, true);
    const host = readLevel(r, HOST_KEYS, false);
    const bad = route.bad ?? host.bad;
    if (bad) return { failClosed: { status: 403, reason: `invalid IP list in ${bad.annotation}` } };
    return route.lists ? { ipAccess: route.lists } : undefined;
  },
  parseHost(r) {
    const host = readLevel(r, HOST_KEYS, true);
    return host.lists ? { ipAccess: host.lists } : undefined;
  },
};
