import { describe, expect, it } from 'vitest';
import { liveness } from '../../bridge/model/index.ts';
import { serviceToSnapshot, UNNAMED_PORT } from './convert.ts';
import { K8S } from './markers.ts';
import type { KubernetesSourceOptions } from './options.ts';
import type { KEndpointSlice, KNode, KService, KSliceEndpoint } from './types.ts';

const OPTS: KubernetesSourceOptions = { services: [], excludeNamespaces: ['kube-system'], labels: {}, annotations: {}, addressMode: 'podIP', nodeAddressType: 'InternalIP', watchNodes: false, istio: { mtlsPreflight: false, workloadEntries: false, rootNamespace: 'istio-system' } };

function svc(extra: Partial<KService['metadata']> = {}, spec: KService['spec'] = {}): KService {
  return {
    metadata: { name: 'orders', namespace: 'shop', resourceVersion: '7', labels: { app: 'orders' }, annotations: { 'isthmus.dev/export': 'true' }, ...extra },
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 9090, targetPort: 9090 }], ...spec },
  };
}

function slice(name: string, endpoints: KSliceEndpoint[], labels: Record<string, string> = {}): KEndpointSlice {
  return {
    metadata: { name, namespace: 'shop', labels: { [K8S.serviceName]: 'orders', [K8S.sliceManagedBy]: 'endpointslice-controller.k8s.io', ...labels } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9090 }],
    endpoints,
  };
}

const pod = (ip: string, name: string, conditions: { ready?: boolean; serving?: boolean; terminating?: boolean }, node = 'n1') => ({
  addresses: [ip], conditions, nodeName: node, zone: 'z1', targetRef: { kind: 'Pod', name, namespace: 'shop' },
});

const noNodes = (): KNode | undefined => undefined;

describe('serviceToSnapshot', () => {
  it('converts pods with every named port, conditions, zone, node and metadata', () => {
    const r = serviceToSnapshot({
      registry: 'k8s',
      service: svc(),
      slices: [slice('orders-abc', [pod('10.1.0.2', 'orders-2', { ready: true, serving: true, terminating: false }), pod('10.1.0.1', 'orders-1', { ready: false, serving: true, terminating: true })])],
      options: OPTS,
      node: noNodes,
    });
    const snap = r.snapshot!;
    expect(snap.ref).toEqual({ namespace: 'shop', name: 'orders' });
    expect(snap.ports.map((p) => p.name)).toEqual(['http', 'grpc']);
    expect(snap.metadata).toMatchObject({ app: 'orders', 'isthmus.dev/export': 'true' });
    expect(snap.endpoints.map((e) => e.address)).toEqual(['10.1.0.1', '10.1.0.2']);
    const [terminating, ready] = snap.endpoints;
    expect(liveness(terminating!)).toBe('draining');
    expect(liveness(ready!)).toBe('ready');
    expect(ready).toMatchObject({ ports: { http: 8080, grpc: 9090 }, zone: 'z1', node: 'n1', origin: { registry: 'k8s', nativeId: 'shop/orders-2' } });
  });

  it('puts the export-port annotation first, in service and endpoint ports', () => {
    const r = serviceToSnapshot({ registry: 'k8s', service: svc({ annotations: { [K8S.exportPort]: 'grpc' } }), slices: [slice('s', [pod('10.1.0.1', 'p', {})])], options: OPTS, node: noNodes });
    expect(r.snapshot?.ports[0]?.name).toBe('grpc');
    expect(Object.keys(r.snapshot?.endpoints[0]?.ports ?? {})[0]).toBe('grpc');
    const bad = serviceToSnapshot({ registry: 'k8s', service: svc({ annotations: { [K8S.exportPort]: 'nope' } }), slices: [], options: OPTS, node: noNodes });
    expect(bad.problems[0]?.reason).toMatch(/names no port/);
  });

  it('skips what Isthmus wrote: our Services entirely, our slices inside a native Service', () => {
    const ours = svc({ labels: { [K8S.managedBy]: 'b1' } });
    expect(serviceToSnapshot({ registry: 'k8s', service: ours, slices: [], options: OPTS, node: noNodes }).snapshot).toBeUndefined();
    const imported = slice('vm', [pod('10.9.0.1', 'x', {})], { [K8S.sliceManagedBy]: K8S.sliceController, [K8S.managedBy]: 'b1' });
    const r = serviceToSnapshot({ registry: 'k8s', service: svc(), slices: [imported, slice('native', [pod('10.1.0.1', 'p', {})])], options: OPTS, node: noNodes });
    expect(r.snapshot?.endpoints.map((e) => e.address)).toEqual(['10.1.0.1']);
  });

  it('applies the source selection and skips ExternalName', () => {
    const sel = { ...OPTS, annotations: { 'isthmus.dev/export': 'true' }, services: ['shop/ord*'] };
    expect(serviceToSnapshot({ registry: 'k8s', service: svc(), slices: [], options: sel, node: noNodes }).snapshot).toBeDefined();
    expect(serviceToSnapshot({ registry: 'k8s', service: svc({ annotations: {} }), slices: [], options: sel, node: noNodes }).snapshot).toBeUndefined();
    expect(serviceToSnapshot({ registry: 'k8s', service: svc({}, { type: 'ExternalName' }), slices: [], options: OPTS, node: noNodes }).snapshot).toBeUndefined();
    expect(serviceToSnapshot({ registry: 'k8s', service: svc({ namespace: 'kube-system' }), slices: [], options: OPTS, node: noNodes }).snapshot).toBeUndefined();
  });

  it('treats nil conditions as ready and names an unnamed port', () => {
    const s: KEndpointSlice = { metadata: { name: 'x', namespace: 'shop', labels: { [K8S.serviceName]: 'orders' } }, addressType: 'IPv4', ports: [{ port: 8080 }], endpoints: [{ addresses: ['10.1.0.1'] }] };
    const r = serviceToSnapshot({ registry: 'k8s', service: svc({}, { ports: [{ port: 80 }] }), slices: [s], options: OPTS, node: noNodes });
    expect(r.snapshot?.endpoints[0]).toMatchObject({ ready: true, serving: true, terminating: false, ports: { [UNNAMED_PORT]: 8080 } });
  });

  it('nodePort mode: one endpoint per node hosting pods, at the node address and NodePort', () => {
    const service = svc({ annotations: { [K8S.addressMode]: 'nodePort' } }, { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    const nodes: Record<string, KNode> = { n1: { status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } }, n2: { status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] } } };
    const r = serviceToSnapshot({
      registry: 'k8s',
      service,
      slices: [slice('s', [pod('10.1.0.1', 'a', {}, 'n1'), pod('10.1.0.2', 'b', { ready: false, serving: true, terminating: true }, 'n2'), pod('10.1.0.3', 'c', {}, 'n2')])],
      options: OPTS,
      node: (n) => nodes[n],
    });
    expect(r.snapshot?.endpoints.map((e) => [e.address, e.ports, liveness(e)])).toEqual([
      ['192.168.0.1', { http: 30080 }, 'ready'],
      ['192.168.0.2', { http: 30080 }, 'ready'],
    ]);
  });

  it('loadBalancer and gateway modes aggregate pod health', () => {
    const lb = svc({ annotations: { [K8S.addressMode]: 'loadBalancer' } }, { type: 'LoadBalancer', ports: [{ name: 'http', port: 80 }] });
    lb.status = { loadBalancer: { ingress: [{ ip: '203.0.113.5' }] } };
    const draining = [slice('s', [pod('10.1.0.1', 'a', { ready: false, serving: true, terminating: true })])];
    const r = serviceToSnapshot({ registry: 'k8s', service: lb, slices: draining, options: OPTS, node: noNodes });
    expect(r.snapshot?.endpoints.map((e) => [e.address, e.ports, liveness(e)])).toEqual([['203.0.113.5', { http: 80 }, 'draining']]);
    const gw = { ...OPTS, addressMode: 'gateway' as const, gateway: { address: '198.51.100.1', ports: { http: 8443 } } };
    const g = serviceToSnapshot({ registry: 'k8s', service: svc(), slices: [slice('s', [pod('10.1.0.1', 'a', {})])], options: gw, node: noNodes });
    expect(g.snapshot?.endpoints.map((e) => [e.address, e.ports])).toEqual([['198.51.100.1', { http: 8443, grpc: 9090 }]]);
    expect(serviceToSnapshot({ registry: 'k8s', service: svc(), slices: [], options: gw, node: noNodes }).snapshot?.endpoints).toEqual([]);
  });
});
