// The --http3 serve flag (and --http3-alt-svc-port).
import { describe, expect, it } from 'vitest';
import { UsageError, parseServe } from '../../control-plane/src/options.js';

describe('--http3', () => {
  it('is off by default', () => {
    expect(parseServe(['--manifests', '/tmp'], {}).pipeline.http3).toBeUndefined();
  });
  it('turns HTTP/3 on, alt-svc on the HTTPS port unless told', () => {
    expect(parseServe(['--manifests', '/tmp', '--http3'], {}).pipeline.http3).toEqual({});
    expect(parseServe(['--manifests', '/tmp', '--http3', '--http3-alt-svc-port', '443'], {}).pipeline.http3).toEqual({ altSvcPort: 443 });
  });
  it('refuses a bad port or the port without --http3', () => {
    expect(() => parseServe(['--manifests', '/tmp', '--http3', '--http3-alt-svc-port', '70000'], {})).toThrow(UsageError);
    expect(() => parseServe(['--manifests', '/tmp', '--http3-alt-svc-port', '443'], {})).toThrow(UsageError);
  });
});
