import { describe, expect, it } from 'vitest';
import { endpointProblem } from './validate.ts';
import { instanceId } from './ownership.ts';
import { isDns1035, NameTable, toDns1035 } from './naming.ts';
import { DEFAULT_POLICY, mapRef, selects } from './route.ts';
import { liveness } from './endpoint.ts';
import { parseRef } from './service-ref.ts';

describe('toDns1035', () => {
  it('keeps valid names and converts others deterministically with a hash suffix', () => {
    expect(toDns1035('orders')).toBe('orders');
    const converted = toDns1035('com.shop.OrderService');
    expect(converted).toMatch(/^com-shop-orderservice-[0-9a-f]{6}$/);
    expect(toDns1035('com.shop.OrderService')).toBe(converted);
    expect(toDns1035('a.b')).not.toBe(toDns1035('a_b'));
    for (const n of ['1abc', '---', 'x'.repeat(200), 'providers:com.foo.Bar:1.0.0:', 'UPPER']) {
      expect(isDns1035(toDns1035(n)), n).toBe(true);
    }
  });

  it('reports a collision instead of merging two originals', () => {
    const t = new NameTable();
    const same = () => 'orders';
    expect(t.claim('orders-a', same)).toEqual({ ok: true, name: 'orders' });
    expect(t.claim('orders-b', same)).toEqual({ ok: false, name: 'orders', heldBy: 'orders-a' });
    t.release('orders-a', same);
    expect(t.claim('orders-b', same).ok).toBe(true);
  });
});

describe('model helpers', () => {
  it('instance ids are deterministic and distinct per address/port', () => {
    const ref = { namespace: 'shop', name: 'orders' };
    expect(instanceId('vm', ref, '10.0.0.1', 80)).toBe(instanceId('vm', ref, '10.0.0.1', 80));
    expect(instanceId('vm', ref, '10.0.0.1', 80)).not.toBe(instanceId('vm', ref, '10.0.0.1', 81));
    expect(instanceId('vm', ref, '10.0.0.1', 80)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('maps and selects refs', () => {
    expect(mapRef({ namespace: 'vms', prefix: 'vm-' }, { namespace: 'public', name: 'orders' })).toEqual({ namespace: 'vms', name: 'vm-orders' });
    const snap = { ref: { namespace: 'shop', name: 'orders-api' }, ports: [], endpoints: [], metadata: { export: 'true' }, origin: 'k8s' };
    expect(selects({ services: ['orders*'], metadata: { export: 'true' } }, snap)).toBe(true);
    expect(selects({ services: ['shop/orders-api'] }, snap)).toBe(true);
    expect(selects({ namespaces: ['other'] }, snap)).toBe(false);
    expect(selects({ metadata: { export: 'false' } }, snap)).toBe(false);
    expect(DEFAULT_POLICY.deleteGuard.maxShrinkPercent).toBe(50);
  });

  it('parses refs strictly', () => {
    expect(parseRef('shop/orders')).toEqual({ namespace: 'shop', name: 'orders' });
    for (const bad of ['orders', '/orders', 'shop/', 'a/b/c']) expect(parseRef(bad)).toBeUndefined();
  });

  it('maps conditions to liveness like the DESIGN §5 table', () => {
    expect(liveness({ ready: true, serving: true, terminating: false })).toBe('ready');
    expect(liveness({ ready: false, serving: true, terminating: true })).toBe('draining');
    expect(liveness({ ready: false, serving: false, terminating: true })).toBe('down');
    expect(liveness({ ready: false, serving: false, terminating: false })).toBe('down');
  });

  it('finds the problem in a bad endpoint', () => {
    const good = { address: '10.0.0.1', ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: 'x' } };
    expect(endpointProblem(good)).toBeUndefined();
    expect(endpointProblem({ ...good, address: 'fe80::1' })).toBeUndefined();
    expect(endpointProblem({ ...good, ports: {} })).toBe('endpoint has no port');
    expect(endpointProblem({ ...good, weight: -1 })).toMatch(/weight/);
    expect(endpointProblem({ ...good, metadata: { big: 'x'.repeat(600) } })).toMatch(/600 characters/);
  });
});
