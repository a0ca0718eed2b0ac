// The few parts of the `oidc-provider` package (dev dependency, no bundled types) the OIDC
// end-to-end test uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Account {
    accountId: string;
    claims(): Promise<Record<string, unknown>>;
  }

  interface Configuration {
    clients?: Array<Record<string, unknown>>;
    cookies?: { keys?: string[] };
    features?: Record<string, { enabled: boolean }>;
    claims?: Record<string, string[]>;
    findAccount?(ctx: unknown, sub: string): Promise<Account | undefined>;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
