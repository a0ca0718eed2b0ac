// Make before break, as data. Responses go out per stream in PUSH_ORDER, so a
// cluster, its endpoints and a secret arrive before the listener or route that
// names them. REFERENCED types are only ever removed from a proxy once the
// REFERRING types (the listeners and routes that may have named them) are ACKed.
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, SCOPED_ROUTE, SECRET, type TypeUrl } from '../type-urls.js';

export const PUSH_ORDER: readonly TypeUrl[] = [CLUSTER, ENDPOINT, SECRET, LISTENER, SCOPED_ROUTE, ROUTE];

export const REFERRING: readonly TypeUrl[] = [LISTENER, SCOPED_ROUTE, ROUTE];

const referenced = new Set<TypeUrl>([CLUSTER, ENDPOINT, SECRET]);

export function isReferenced(t: TypeUrl): boolean {
  return referenced.has(t);
}

export function isReferring(t: TypeUrl): boolean {
  return t === LISTENER || t === SCOPED_ROUTE || t === ROUTE;
}
