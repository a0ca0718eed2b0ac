// metav1.Status errors, shaped like the real API server's.
import type { ResourceType } from './resources.js';

export type Reason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'BadRequest' | 'Invalid' | 'MethodNotAllowed' | 'UnsupportedMediaType' | 'Expired' | 'Gone' | 'ServiceUnavailable';

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: Reason,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string },
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return statusObject(this.code, this.reason, this.message, this.details);
  }
}

export function statusObject(code: number, reason: string, message: string, details?: object): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const qualified = (t: ResourceType) => (t.group ? `${t.resource}.${t.group}` : t.resource);

export const notFound = (t: ResourceType, name: string) => new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group, kind: t.resource });
export const alreadyExists = (t: ResourceType, name: string) => new ApiError(409, 'AlreadyExists', `${qualified(t)} "${name}" already exists`, { name, group: t.group, kind: t.resource });
export const conflict = (t: ResourceType, name: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
    name,
    group: t.group,
    kind: t.resource,
  });
export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const invalid = (t: ResourceType, name: string, message: string) => new ApiError(422, 'Invalid', `${t.kind} "${name}" is invalid: ${message}`, { name, group: t.group, kind: t.kind });
export const expired = (message: string) => new ApiError(410, 'Expired', message);
