// The logging the xDS server needs; a pino Logger fits it.
export interface XdsLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = (): void => {};

export const silentLogger: XdsLogger = { debug: noop, info: noop, warn: noop, error: noop };
