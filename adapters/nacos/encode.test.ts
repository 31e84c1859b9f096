import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { fromInstance, isOwned, sameInstances, toInstance, type ExportSettings } from './encode.ts';
import { nameOfRef, parseDubboName, refOfName } from './naming.ts';

const S: ExportSettings = { bridgeId: 'b1', portName: 'http', cluster: 'DEFAULT', namespace: 'default' };
const REF = { namespace: 'shop', name: 'orders' };

function ep(extra: Partial<Endpoint> = {}): Endpoint {
  return {
    address: '10.1.0.1',
    ports: { http: 8080, metrics: 9090 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: { 'app.kubernetes.io/name': 'orders', 'isthmus.sneaky': 'x' },
    origin: { registry: 'k8s', nativeId: 'shop/orders-abc' },
    ...extra,
  };
}

describe('model → nacos', () => {
  it('writes markers, weight and health, and round-trips every stored field', () => {
    const want = ep({ protocol: 'grpc', zone: 'z1', node: 'n1', weight: 250 });
    const i = toInstance(REF, want, S, true);
    expect(i).toMatchObject({ ip: '10.1.0.1', port: 8080, weight: 2.5, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT' });
    expect(i.metadata?.['isthmus.managed-by']).toBe('b1');
    expect(i.metadata?.['isthmus.origin']).toBe('k8s');
    expect(i.metadata?.['isthmus.sneaky']).toBeUndefined();
    expect(isOwned(i, 'b1')).toBe(true);
    expect(isOwned(i, 'b2')).toBe(false);
    expect(fromInstance(i, S)).toEqual(want);
  });

  it('drains with enabled=false and marks not-serving endpoints unhealthy', () => {
    expect(toInstance(REF, ep({ ready: false, terminating: true }), S, true)).toMatchObject({ healthy: true, enabled: false });
    expect(toInstance(REF, ep({ ready: false, serving: false }), S, true)).toMatchObject({ healthy: false, enabled: true });
  });

  it('compares instance sets regardless of order and metadata key order', () => {
    const a = toInstance(REF, ep(), S, true);
    const b = toInstance(REF, ep({ address: '10.1.0.2' }), S, true);
    expect(sameInstances([a, b], [b, { ...a, metadata: Object.fromEntries(Object.entries(a.metadata ?? {}).reverse()) }])).toBe(true);
    expect(sameInstances([a], [{ ...a, weight: 2 }])).toBe(false);
  });

  it('maps refs to group/service and back', () => {
    expect(nameOfRef({ namespace: 'x', name: 'orders' }, 'DEFAULT_GROUP')).toEqual({ group: 'DEFAULT_GROUP', service: 'orders' });
    expect(nameOfRef({ namespace: 'x', name: 'g@@orders' }, 'DEFAULT_GROUP')).toEqual({ group: 'g', service: 'orders' });
    expect(refOfName({ group: 'g', service: 'orders' }, 'DEFAULT_GROUP', 'x')).toEqual({ namespace: 'x', name: 'g@@orders' });
    expect(parseDubboName('providers:com.foo.Demo::')).toEqual({ category: 'providers', interface: 'com.foo.Demo', version: '', group: '' });
    expect(parseDubboName('providers:com.foo.Demo:1.0')).toEqual({ category: 'providers', interface: 'com.foo.Demo', version: '1.0', group: '' });
    expect(parseDubboName('orders-app')).toBeUndefined();
  });
});
