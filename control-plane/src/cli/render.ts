// How `xgate translate` (and the golden files) print resources and diagnostics.
import { stringify } from 'yaml';
import { formatDiagnostic, type Diagnostic } from '../diagnostics.js';
import { redactResources } from '../translate/redact.js';
import type { EnvoyResources } from '../translate/resources.js';

export interface Rendered {
  readonly diagnostics: string[];
  readonly resources: EnvoyResources;
}

/** Resources with secrets redacted, and diagnostics as one line each. */
export function renderable(resources: EnvoyResources, diagnostics: readonly Diagnostic[]): Rendered {
  return { diagnostics: diagnostics.map(formatDiagnostic), resources: redactResources(resources) };
}

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
