// The chart's access settings (docs/access-control.md): trusted hops and instance IP
// lists become control plane flags that parseServe accepts; the WAF module is copied into
// the gateway pod by an init container and named by --waf-module.
import { describe, expect, it } from 'vitest';
import { parseServe } from '../../control-plane/src/options.js';
import { one, render, validateSchemas, type K8sObject } from './helm.js';

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Deployment extends K8sObject {
  spec: { template: { spec: { initContainers?: Container[]; containers: Container[]; volumes?: { name: string; emptyDir?: object }[] } } };
}

const deployments = (objects: K8sObject[]) => ({
  controller: one(objects, 'Deployment', 'rel-xgate-controller') as Deployment,
  gateway: one(objects, 'Deployment', 'rel-xgate-gateway') as Deployment,
});

describe('chart: access control and the WAF module', () => {
  it('by default: no access flags, no init container, no wasm volume', () => {
    const { controller, gateway } = deployments(render());
    const args = controller.spec.template.spec.containers[0]!.args!;
    expect(args.filter((a) => /--(trusted-hops|allow-source-range|deny-source-range|waf-module)/.test(a))).toEqual([]);
    expect(gateway.spec.template.spec.initContainers).toBeUndefined();
    expect(gateway.spec.template.spec.volumes!.map((v) => v.name)).not.toContain('wasm');
  });

  it('with settings: flags that parseServe accepts; the WAF module copied into an emptyDir Envoy reads', () => {
    const objects = render({
      set: {
        'gateway.trustedHops': 1,
        'gateway.routeShards': 32,
        'gateway.allowSourceRanges': ['10.0.0.0/8', '2001:db8::/32'],
        'gateway.denySourceRanges': ['10.9.0.0/16'],
        'gateway.waf.enabled': true,
        'controlPlane.image.repository': 'registry.example.com/xgate',
        'controlPlane.image.tag': '1.2.3',
      },
    });
    expect(validateSchemas(objects).filter((r) => r.result === 'invalid')).toEqual([]);
    const { controller, gateway } = deployments(objects);
    const args = controller.spec.template.spec.containers[0]!.args!;
    expect(args).toEqual(expect.arrayContaining(['--trusted-hops=1', '--route-shards=32', '--allow-source-range=10.0.0.0/8,2001:db8::/32', '--deny-source-range=10.9.0.0/16', '--waf-module=/etc/xgate/wasm/waf.wasm']));
    const opts = parseServe(args.slice(1).map((a) => a.replace('$(POD_NAME)', 'p')), { POD_NAME: 'p', POD_NAMESPACE: 'xgate', KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(opts.pipeline).toMatchObject({ trustedHops: 1, routeShards: 32, sourceRanges: { allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.9.0.0/16'] }, wafModule: '/etc/xgate/wasm/waf.wasm' });
    const init = gateway.spec.template.spec.initContainers!;
    expect(init).toHaveLength(1);
    expect(init[0]!.image).toBe('registry.example.com/xgate:1.2.3');
    expect(init[0]!.command).toEqual(['cp', '/opt/xgate/wasm-plugins/waf/dist/waf.wasm', '/wasm/waf.wasm']);
    const envoy = gateway.spec.template.spec.containers.find((c) => c.name === 'envoy')!;
    expect(envoy.volumeMounts).toContainEqual({ name: 'wasm', mountPath: '/etc/xgate/wasm', readOnly: true });
    expect(gateway.spec.template.spec.volumes).toContainEqual({ name: 'wasm', emptyDir: { sizeLimit: '32Mi' } });
  });
});

describe('chart: HTTP/3', () => {
  it('off by default; on: --http3 with the Service port for alt-svc, and a UDP port on the pod and the Service', () => {
    const off = deployments(render());
    expect(off.controller.spec.template.spec.containers[0]!.args!.filter((a) => a.startsWith('--http3'))).toEqual([]);
    const objects = render({ set: { 'gateway.http3.enabled': true } });
    expect(validateSchemas(objects).filter((r) => r.result === 'invalid')).toEqual([]);
    const { controller, gateway } = deployments(objects);
    const args = controller.spec.template.spec.containers[0]!.args!;
    expect(args).toEqual(expect.arrayContaining(['--http3', '--http3-alt-svc-port=443']));
    const opts = parseServe(args.slice(1).map((a) => a.replace('$(POD_NAME)', 'p')), { POD_NAME: 'p', POD_NAMESPACE: 'xgate', KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(opts.pipeline.http3).toEqual({ altSvcPort: 443 });
    const envoy = gateway.spec.template.spec.containers.find((c) => c.name === 'envoy') as unknown as { ports: { name: string; containerPort: number; protocol: string }[] };
    expect(envoy.ports).toContainEqual({ name: 'https-quic', containerPort: 8443, protocol: 'UDP' });
    const svc = one(objects, 'Service', 'rel-xgate-gateway') as unknown as { spec: { ports: { name: string; port: number; targetPort: string; protocol: string }[] } };
    expect(svc.spec.ports).toContainEqual({ name: 'https-quic', port: 443, targetPort: 'https-quic', protocol: 'UDP' });
  });
});
