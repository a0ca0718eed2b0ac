// Reads one value of a Secret as text: `stringData` (manifests may write it) wins over
// base64 `data` (what the API returns).
import type { Secret } from '../sources/k8s-types.js';

export function secretValue(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (typeof plain === 'string') return plain;
  const b64 = secret.data?.[key];
  if (typeof b64 !== 'string') return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** Every key of a Secret (data and stringData), sorted. */
export function secretKeys(secret: Secret): string[] {
  return [...new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})])].sort();
}
