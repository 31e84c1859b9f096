// Golden identifiers. Slices are found by label, but their names and the Service name are how a
// restarted (or upgraded) bridge recognises what it wrote: if any of these strings changes, an
// upgrade would create new objects next to the old ones instead of updating them. Change a
// literal here only together with a migration that renames existing objects.
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { toDns1035 } from '../../bridge/model/index.ts';
import { K8S } from './markers.ts';
import { planImport } from './sink-plan.ts';
import { sliceNameBase } from './slices.ts';

const REF = { namespace: 'shop', name: 'com.shop.OrderService' };
const BRIDGE = 'prod-east';

function ep(address: string, registry = 'vm', ports: Record<string, number> = { http: 8080 }): Endpoint {
  return { address, ports, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry, nativeId: `${registry}:${address}` } };
}

describe('golden identifiers (an upgrade must not orphan existing objects)', () => {
  it('names the Service and every slice exactly as released versions did', () => {
    const owner = { bridgeId: BRIDGE, namespace: toDns1035(REF.namespace), service: toDns1035(REF.name), originalName: REF.name, originalNamespace: REF.namespace };
    const endpoints = [...Array.from({ length: 101 }, (_, i) => ep(`10.0.0.${i + 1}`)), ep('fd00::1'), ep('10.1.0.1', 'nacos'), ep('10.2.0.1', 'vm', { http: 8080, grpc: 9090 })];
    const plan = planImport(
      { ref: REF, owner, svc: undefined, slices: [], foreign: [], observed: undefined },
      { ref: REF, ports: [{ name: 'http', port: 8080 }], endpoints, metadata: {}, origin: 'vm' },
      { bridgeId: BRIDGE, options: { mixed: 'annotated', serviceType: 'ClusterIP', maxEndpointsPerSlice: 100 }, heldBy: undefined },
    );
    expect(plan.operations).toEqual([
      { verb: 'create', record: 'Service shop/com-shop-orderservice-670cf2' },
      { verb: 'create', record: 'EndpointSlice shop/com-shop-orderservice-670cf2-8b4bc51b-0' }, // vm, IPv4, http=8080: 100
      { verb: 'create', record: 'EndpointSlice shop/com-shop-orderservice-670cf2-8b4bc51b-1' }, // … and the 101st
      { verb: 'create', record: 'EndpointSlice shop/com-shop-orderservice-670cf2-6d7a7cf8-0' }, // nacos
      { verb: 'create', record: 'EndpointSlice shop/com-shop-orderservice-670cf2-efd39455-0' }, // vm, grpc+http
      { verb: 'create', record: 'EndpointSlice shop/com-shop-orderservice-670cf2-02e20fc4-0' }, // vm, IPv6
    ]);
    const svc = plan.service?.body;
    expect(svc?.metadata?.labels).toEqual({ [K8S.managedBy]: BRIDGE, [K8S.origin]: 'vm' });
    expect(svc?.metadata?.annotations).toEqual({ 'isthmus.dev/managed-by': BRIDGE, 'isthmus.dev/original-name': 'com.shop.OrderService', 'isthmus.dev/original-namespace': 'shop' });
    const slice = plan.createSlices.find((s) => s.metadata?.name === 'com-shop-orderservice-670cf2-8b4bc51b-1');
    expect(slice?.metadata?.labels).toEqual({
      'kubernetes.io/service-name': 'com-shop-orderservice-670cf2',
      'endpointslice.kubernetes.io/managed-by': 'bridge.isthmus.dev',
      'isthmus.dev/managed-by': BRIDGE,
      'isthmus.dev/origin': 'vm',
    });
    expect(slice?.metadata?.annotations).toEqual({
      'isthmus.dev/original-name': 'com.shop.OrderService',
      'isthmus.dev/original-namespace': 'shop',
      'isthmus.dev/origin-ids': '["vm:10.0.0.99"]',
    });
  });

  it('converts registry names to the same DNS-1035 names and slice prefixes', () => {
    expect(toDns1035('orders')).toBe('orders');
    expect(toDns1035('Public')).toBe('public-591935');
    expect(toDns1035('DEFAULT_GROUP')).toBe('default-group-126c2b');
    expect(toDns1035('providers:com.foo.Bar:1.0.0:')).toBe('providers-com-foo-bar-1-0-0-9b6e9f');
    expect(toDns1035('x'.repeat(70))).toBe(`${'x'.repeat(56)}-c71bd1`);
    const owner = { bridgeId: BRIDGE, namespace: 'public', service: 'orders', originalName: 'orders', originalNamespace: 'public' };
    expect(sliceNameBase(owner, 'consul-dc1|IPv4|http=8080')).toBe('orders-b61fcca1');
  });
});
