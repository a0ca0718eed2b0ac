// `serve --kube` flags: parsed and validated once, environment read only there.
import { describe, expect, it } from 'vitest';
import { UsageError, parseServe } from '../../control-plane/src/options.js';

describe('serve --kube options', () => {
  it('has client-go-like defaults and reads POD_NAME and POD_NAMESPACE', () => {
    const o = parseServe(['--kube'], { POD_NAME: 'xgate-7d9f', POD_NAMESPACE: 'xgate-system', KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(o.manifests).toBe('');
    expect(o.kube).toEqual({
      kubeconfig: { kind: 'in-cluster' },
      namespaces: [],
      publish: undefined,
      identity: 'xgate-7d9f',
      election: { namespace: 'xgate-system', id: 'xgate-leader', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    });
  });

  it('takes every flag', () => {
    const o = parseServe(
      ['--kube', '--kubeconfig', import.meta.filename, '--namespaces', 'b, a,a', '--publish-service', 'xgate-system/gateway', '--election-namespace', 'ops', '--election-id', 'gw-leader', '--pod-name', 'p-1', '--lease-duration-ms', '3000', '--renew-deadline-ms', '2000', '--retry-period-ms', '500'],
      { POD_NAME: 'unused' },
    );
    expect(o.kube).toEqual({
      kubeconfig: { kind: 'file', path: import.meta.filename },
      namespaces: ['a', 'b'],
      publish: { kind: 'service', namespace: 'xgate-system', name: 'gateway' },
      identity: 'p-1',
      election: { namespace: 'ops', id: 'gw-leader', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 },
    });
    expect(parseServe(['--kube', '--publish-address', '203.0.113.1,lb.example.com,2001:db8::1'], {}).kube?.publish).toEqual({
      kind: 'addresses',
      addresses: [{ ip: '203.0.113.1' }, { hostname: 'lb.example.com' }, { ip: '2001:db8::1' }],
    });
    // Outside a pod, without --kubeconfig: client-node's default loading.
    expect(parseServe(['--kube'], {}).kube?.kubeconfig).toEqual({ kind: 'default' });
    expect(parseServe(['--kube'], { KUBERNETES_SERVICE_HOST: 'x', KUBECONFIG: '/k' }).kube?.kubeconfig).toEqual({ kind: 'default' });
  });

  it('refuses bad combinations and values', () => {
    const bad = (args: string[]) => expect(() => parseServe(args, {})).toThrow(UsageError);
    bad(['--kube', '--manifests', 'x']);
    bad(['--manifests', 'x', '--namespaces', 'a']);
    bad(['--manifests', 'x', '--publish-address', '1.2.3.4']);
    bad([]);
    bad(['--kube', '--publish-service', 'gateway']);
    bad(['--kube', '--publish-service', 'a/b', '--publish-address', '1.2.3.4']);
    bad(['--kube', '--publish-address', 'not an address']);
    bad(['--kube', '--namespaces', 'Bad_NS']);
    bad(['--kube', '--renew-deadline-ms', '20000']);
    bad(['--kube', '--lease-duration-ms', '3000', '--renew-deadline-ms', '2000', '--retry-period-ms', '1900']);
    bad(['--kube', '--pod-name', 'has space']);
    bad(['--kube', '--election-id', 'UPPER']);
    bad(['--kube', '--kubeconfig', '/nonexistent/kubeconfig']);
  });

  it('leaves the manifest mode as it was', () => {
    const o = parseServe(['--manifests', 'examples'], { POD_NAME: 'x' });
    expect(o.manifests).toBe('examples');
    expect(o.kube).toBeUndefined();
  });
});
