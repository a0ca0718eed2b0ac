// What a stream asked for, per type: wildcard (everything in the snapshot) and/or
// explicit names. Wildcard is the legacy form (first request names nothing) or "*".
export const WILDCARD = '*';

export class Subscription {
  wildcard = false;
  /** Change it only through the methods below (they keep `sorted()` current). */
  readonly names = new Set<string>();
  private sortedNames: { readonly names: readonly string[]; readonly key: string } | undefined;

  /** The explicit names sorted by UTF-16 code units, and one string standing for the list. */
  sorted(): { readonly names: readonly string[]; readonly key: string } {
    if (!this.sortedNames) {
      const names = [...this.names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.sortedNames = { names, key: names.join('\u0000') };
    }
    return this.sortedNames;
  }

  protected changed(): void {
    this.sortedNames = undefined;
  }

  /** True if a resource of this name belongs in what the stream gets. */
  wants(name: string): boolean {
    return this.wildcard || this.names.has(name);
  }

  /**
   * SotW: every request carries the full list. An empty list is wildcard only on the
   * first request (legacy); later, it unsubscribes from every explicit name. Returns
   * whether the subscription changed.
   */
  setSotw(resourceNames: readonly string[], first: boolean): boolean {
    const wasWildcard = this.wildcard;
    const legacyWildcard = resourceNames.length === 0 && (first || (this.wildcard && this.names.size === 0));
    this.wildcard = legacyWildcard || resourceNames.includes(WILDCARD);
    const before = this.sorted();
    this.names.clear();
    for (const n of resourceNames) if (n !== WILDCARD) this.names.add(n);
    // A SotW client repeats its list with every ACK: keep the sorted list when it is the same.
    if (first || before.names.length !== this.names.size || before.names.some((n) => !this.names.has(n))) {
      this.changed();
      return true;
    }
    return wasWildcard !== this.wildcard;
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
        this.changed();
      }
    }
    return added;
  }

  /** Returns the explicit names that were subscribed before. */
  unsubscribe(names: readonly string[]): string[] {
    const removed: string[] = [];
    for (const n of names) {
      if (n === WILDCARD) this.wildcard = false;
      else if (this.names.delete(n)) {
        removed.push(n);
        this.changed();
      }
    }
    return removed;
  }
}
