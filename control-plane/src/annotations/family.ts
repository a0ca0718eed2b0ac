// An annotation family: one file that reads its keys from an Ingress and returns a
// typed part of the route policy, reporting every bad value as a diagnostic.
import type { Ingress } from '../sources/k8s-types.js';
import type { RoutePolicy } from '../model/ir.js';
import type { AnnotationReader } from './reader.js';

export interface FamilyContext {
  readonly ingress: Ingress;
  readonly namespace: string;
}

export interface AnnotationFamily {
  /** e.g. `timeout`, `cors`, `canary`. */
  readonly name: string;
  /**
   * Reads the family's keys (every key read through `r` counts as known) and returns
   * the fields it adds to the route policy of every route of this Ingress, or nothing.
   * A security family whose value is unusable returns `{ failClosed: … }`.
   */
  parse(r: AnnotationReader, ctx: FamilyContext): Partial<RoutePolicy> | undefined;
}
