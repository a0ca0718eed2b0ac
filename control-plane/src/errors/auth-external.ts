// Diagnostic codes of one feature area (merged into CODES by ../errors.ts).
// e.g. XG_FOO_INVALID: 'What went wrong, in one sentence',
export const AUTH_EXTERNAL_CODES = {} as const satisfies Record<`XG_${string}`, string>;
