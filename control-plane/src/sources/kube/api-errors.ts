// The HTTP status of an error from client-node: ApiException carries `code`, a failed
// watch carries `statusCode`; network errors carry neither.
export function httpStatus(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** A short description for logs (ApiException messages include whole response bodies and headers). */
export function describeError(err: unknown): string {
  const status = httpStatus(err);
  const body = (err as { body?: unknown } | undefined)?.body;
  let reason = '';
  if (body && typeof body === 'object') reason = String((body as { message?: unknown }).message ?? '');
  else if (typeof body === 'string') {
    try {
      reason = String((JSON.parse(body) as { message?: unknown }).message ?? '');
    } catch {
      reason = body.slice(0, 200);
    }
  }
  if (status !== undefined) return `HTTP ${status}${reason ? `: ${reason}` : ''}`;
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
