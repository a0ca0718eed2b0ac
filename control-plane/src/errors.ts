// The coded diagnostic registry. Every rejection xgate makes has a code here, so
// logs, Events, metrics and docs can name it. Each feature area keeps its codes in
// its own file under errors/ (a `Record<\`XG_${string}\`, string>` checked with
// `satisfies`), merged here.
import { AUTH_CODES } from './errors/auth.js';
import { AUTH_EXTERNAL_CODES } from './errors/auth-external.js';
import { ACCESS_CODES } from './errors/access.js';
import { ROUTING_CODES } from './errors/routing.js';
import { TRAFFIC_CODES } from './errors/traffic.js';
import { UPSTREAM_CODES } from './errors/upstream.js';

const CORE_CODES = {
  XG_MANIFEST_YAML: 'A manifest file is not valid YAML',
  XG_MANIFEST_SHAPE: 'A manifest document is not a Kubernetes object (apiVersion, kind, metadata.name)',
  XG_MANIFEST_UNKNOWN_KIND: 'A manifest document has a kind xgate does not read',
  XG_MANIFEST_DUPLICATE: 'The same object appears twice in the manifests',
  XG_NAME_INVALID: 'A name or namespace is not a valid DNS-1123 name',
  XG_INGRESS_INVALID: 'An Ingress field has an invalid shape',
  XG_INGRESS_HOST_INVALID: 'An Ingress host is not a valid DNS name or one-label wildcard',
  XG_INGRESS_PATH_INVALID: 'An Ingress path is not a valid HTTP path for its pathType',
  XG_INGRESS_PATH_REGEX_CHARS: 'An Exact or Prefix path holds regex metacharacters; they match literally',
  XG_INGRESS_NO_BACKEND: 'An Ingress path has no service backend',
  XG_INGRESS_RESOURCE_BACKEND: 'Resource backends are not supported',
  XG_SERVICE_NOT_FOUND: 'The backend Service does not exist',
  XG_SERVICE_PORT_NOT_FOUND: 'The backend Service has no such port',
  XG_SERVICE_NO_ENDPOINTS: 'The backend Service has no ready endpoints',
  XG_SECRET_NOT_FOUND: 'The TLS Secret does not exist',
  XG_SECRET_INVALID: 'The TLS Secret is not a usable kubernetes.io/tls Secret',
  XG_HOST_CONFLICT: 'Another Ingress already serves this host and path',
  XG_TLS_CONFLICT: 'Another Ingress already serves TLS for this host with another Secret',
  XG_DEFAULT_BACKEND_CONFLICT: 'Another Ingress already provides the default backend',
  XG_ANNOTATION_UNKNOWN: 'An annotation under an xgate-read prefix is not known',
  XG_ANNOTATION_CONFLICT: 'Two prefixes set the same annotation to different values',
  XG_ANNOTATION_INVALID: 'An annotation value is invalid',
  XG_CANARY_INVALID: 'A canary annotation value is invalid: that canary is not served and its primary keeps all traffic',
  XG_CANARY_NO_PRIMARY: 'A canary Ingress names a host and path that no primary Ingress serves: the canary is not served alone',
  XG_CANARY_NAMESPACE: 'A canary Ingress is in another namespace than the primary of its host and path: it is not served',
  XG_CANARY_WEIGHT_OVERFLOW: 'The canaries of one host and path ask for more than the whole traffic: their weights are normalised proportionally',
  XG_CANARY_IGNORED: 'A canary annotation or field has no effect (no canary: "true", shadowed by another key, or not read on a canary)',
  XG_WARMUP_CONFLICT: 'Ingresses (or an Ingress and its Service) ask for different warmups of one Service port',
  XG_WARMUP_INCOMPLETE: 'A warmup extra (aggression, minimum weight) is set without a warmup window',
  XG_WARMUP_NOT_APPLICABLE: 'Warmup (slow start) does not apply with hash or cookie affinity',
  XG_TRANSLATE_INTERNAL: 'Translation of an object failed unexpectedly',
  XG_XDS_NACK: 'A proxy rejected a resource',
  XG_HOST_POLICY_CONFLICT: 'Ingresses serving one host ask for different domain-level settings: the oldest wins',
} as const;

export const CODES = {
  ...CORE_CODES,
  ...ROUTING_CODES,
  ...TRAFFIC_CODES,
  ...UPSTREAM_CODES,
  ...ACCESS_CODES,
  ...AUTH_CODES,
  ...AUTH_EXTERNAL_CODES,
} as const;

export type Code = keyof typeof CODES & string;
