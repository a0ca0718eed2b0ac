// Documents the control plane fetches for translation (e.g. an OIDC issuer's discovery
// document), by URL. Translation never does I/O: a family asks for a URL through
// FamilyContext.external(), the build records it as wanted, a fetcher fetches it into
// the store, and the store's change rebuilds the model.
export type ExternalDocument =
  | { readonly ok: true; readonly url: string; readonly body: string }
  | { readonly ok: false; readonly url: string; readonly error: string };
