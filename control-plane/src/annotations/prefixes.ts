// The annotation prefixes xgate reads. A key is read as N, then H, then M, then X
// (first present wins); keys documented for one product are read only there (and X).
export const PREFIXES = {
  N: 'nginx.ingress.kubernetes.io/',
  H: 'higress.io/',
  M: 'mse.ingress.kubernetes.io/',
  X: 'xgate.io/',
} as const;

export type Prefix = keyof typeof PREFIXES;
export const READ_ORDER: readonly Prefix[] = ['N', 'H', 'M', 'X'];

/** The prefix and bare key of an annotation under one of our prefixes, if it is one. */
export function splitKey(annotation: string): { prefix: Prefix; key: string } | undefined {
  for (const p of READ_ORDER) {
    if (annotation.startsWith(PREFIXES[p])) return { prefix: p, key: annotation.slice(PREFIXES[p].length) };
  }
  return undefined;
}
