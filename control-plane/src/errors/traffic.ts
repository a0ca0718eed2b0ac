// Diagnostic codes of one feature area (merged into CODES by ../errors.ts).
// Traffic policies: CORS, header control, retries, mirroring, custom error pages.
export const TRAFFIC_CODES = {
  XG_CORS_IGNORED: 'A cors-* annotation is set without enable-cors: "true"; it has no effect',
  XG_MIRROR_NAMESPACE: 'A mirror target names a Service in another namespace: the route is served without mirroring',
  XG_MIRROR_UNSUPPORTED: 'A mirroring annotation xgate does not implement (the URL form mirror-target, mirror-host, mirror-request-body): it has no effect',
  XG_MIRROR_IGNORED: 'mirror-percentage is set without a mirror target; it has no effect',
  XG_MIRROR_SERVICE: 'The mirror target Service (or its port) does not exist: the route is served without mirroring',
  XG_DEFAULT_BACKEND_NAMESPACE: 'The default-backend annotation names a Service in another namespace: no custom error pages for the route',
  XG_DEFAULT_BACKEND_SERVICE: 'The default-backend Service (or its port) does not exist: no custom error pages for the route',
  XG_CUSTOM_ERRORS_NO_BACKEND: 'custom-http-errors is set without a default-backend annotation: xgate has no global error page service, so it has no effect',
  XG_RETRY_IGNORED: 'A retry setting has no effect (proxy-next-upstream is off)',
} as const satisfies Record<`XG_${string}`, string>;
