// What a delta client holds of one type: resource name → version. A wildcard client in
// step with the snapshot holds exactly a TypeSnapshot's resources, so the map is that
// snapshot's own (shared by reference by every such stream) plus this stream's
// differences from it; `rebase` moves it to a newer snapshot once the client holds
// exactly that. A stream then costs a few objects instead of a map of every name.
import type { ResourceMap } from './wire.js';
import { namesOf } from './wire.js';

/** In the overlay: the name is absent although the base has it. */
const ABSENT = null;

export class KnownVersions {
  private base: ResourceMap | undefined;
  /** Differences from the base: a version, or ABSENT. */
  private readonly overlay = new Map<string, string | typeof ABSENT>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(name: string): string | undefined {
    const o = this.overlay.get(name);
    if (o !== undefined) return o ?? undefined;
    return this.base?.get(name)?.version;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, version: string): void {
    if (!this.has(name)) this.count++;
    if (this.base?.get(name)?.version === version) this.overlay.delete(name);
    else this.overlay.set(name, version);
  }

  delete(name: string): void {
    if (this.has(name)) this.count--;
    if (this.base?.has(name)) this.overlay.set(name, ABSENT);
    else this.overlay.delete(name);
  }

  *keys(): IterableIterator<string> {
    if (this.base) for (const name of this.base.keys()) if (this.overlay.get(name) !== ABSENT) yield name;
    for (const [name, v] of this.overlay) if (v !== ABSENT && !this.base?.has(name)) yield name;
  }

  /** Every name held, as a list (shared with other streams when nothing differs from the base). */
  names(): readonly string[] {
    if (this.base && this.overlay.size === 0) return namesOf(this.base);
    return [...this.keys()];
  }

  /** The shared map this stream's holdings are expressed against, if any. */
  baseMap(): ResourceMap | undefined {
    return this.base;
  }

  /** Names whose version may differ from the base's. */
  differences(): IterableIterator<string> {
    return this.overlay.keys();
  }

  /** Holds the same names and versions without the shared map (which then no longer stays alive for this stream). */
  detach(): void {
    if (!this.base) return;
    const held: [string, string][] = [];
    for (const name of this.keys()) held.push([name, this.get(name)!]);
    this.base = undefined;
    this.overlay.clear();
    for (const [name, version] of held) this.overlay.set(name, version);
  }

  /** The client holds exactly `resources` (name → its version) now: express it so. */
  rebase(resources: ResourceMap): void {
    this.base = resources;
    this.overlay.clear();
    this.count = resources.size;
  }
}
