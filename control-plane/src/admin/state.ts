// What the admin API reads from the running control plane. The composition root
// (serve) implements it; admin/ knows nothing else about the pipeline.
import type { Diagnostic } from '../diagnostics.js';
import type { GroupResources } from '../translate/resources.js';
import type { Snapshot } from '../xds/cache/types.js';

export interface AdminState {
  /** True once the first complete snapshot is published (and sources have synced). */
  isReady(): boolean;
  /** The latest translated resources per group, unredacted: admin must redact before showing. */
  resources(): GroupResources | undefined;
  /** The published snapshot per group. */
  snapshots(): Readonly<Record<string, Snapshot>>;
  /** Every diagnostic of the latest translation. */
  diagnostics(): readonly Diagnostic[];
}
