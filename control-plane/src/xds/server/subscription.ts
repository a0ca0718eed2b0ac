// What a stream asked for, per type: wildcard (everything in the snapshot) and/or
// explicit names. Wildcard is the legacy form (first request names nothing) or "*".
export const WILDCARD = '*';

export class Subscription {
  wildcard = false;
  readonly names = new Set<string>();

  /** True if a resource of this name belongs in what the stream gets. */
  wants(name: string): boolean {
    return this.wildcard || this.names.has(name);
  }

  /**
   * SotW: every request carries the full list. An empty list is wildcard only on the
   * first request (legacy); later, it unsubscribes from every explicit name.
   */
  setSotw(resourceNames: readonly string[], first: boolean): void {
    const legacyWildcard = resourceNames.length === 0 && (first || (this.wildcard && this.names.size === 0));
    this.wildcard = legacyWildcard || resourceNames.includes(WILDCARD);
    this.names.clear();
    for (const n of resourceNames) if (n !== WILDCARD) this.names.add(n);
  }
}

/** Delta: subscriptions change by difference; returns the names that changed. */
export class DeltaSubscription extends Subscription {
  /** The first request: nothing subscribed, or "*", means wildcard. */
  init(subscribe: readonly string[]): string[] {
    this.wildcard = subscribe.length === 0 || subscribe.includes(WILDCARD);
    return this.subscribe(subscribe);
  }

  /** Returns the explicit names that were not subscribed before. */
  subscribe(names: readonly string[]): string[] {
    const added: string[] = [];
    for (const n of names) {
      if (n === WILDCARD) this.wildcard = true;
      else if (!this.names.has(n)) {
        this.names.add(n);
        added.push(n);
      }
    }
    return added;
  }

  /** Returns the explicit names that were subscribed before. */
  unsubscribe(names: readonly string[]): string[] {
    const removed: string[] = [];
    for (const n of names) {
      if (n === WILDCARD) this.wildcard = false;
      else if (this.names.delete(n)) removed.push(n);
    }
    return removed;
  }
}
