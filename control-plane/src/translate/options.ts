// Options that shape the generated Envoy resources.
export interface TranslateOptions {
  /** Address the gateway listeners bind to inside the Envoy pod. */
  readonly bindAddress: string;
  readonly httpPort: number;
  readonly httpsPort: number;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  bindAddress: '0.0.0.0',
  httpPort: 8080,
  httpsPort: 8443,
};
