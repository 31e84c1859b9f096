import { describe, expect, it } from 'vitest';
import { instanceId, toDns1035 } from './index.ts';

// Records already written in users' registries carry these identifiers. If a change here makes
// one of these literals differ, an upgrade would orphan every existing record (and write them
// all again beside the old ones): that needs a migration, not a new expected value.
describe('golden identifiers', () => {
  it('instance ids', () => {
    expect(instanceId('vm', { namespace: 'shop', name: 'orders' }, '10.0.0.1', 8080)).toBe('c47b3bfceeb32299');
    expect(instanceId('k8s', { namespace: 'default', name: 'com.shop.OrderService' }, 'fd00::1', 20880)).toBe('e0bab7acfa1b9a88');
  });

  it('DNS-1035 names of imported services', () => {
    expect(toDns1035('orders')).toBe('orders');
    expect(toDns1035('com.shop.OrderService')).toBe('com-shop-orderservice-670cf2');
    expect(toDns1035('providers:com.foo.Bar:1.0.0:')).toBe('providers-com-foo-bar-1-0-0-9b6e9f');
    expect(toDns1035('x'.repeat(80))).toBe(`${'x'.repeat(56)}-d929cd`);
  });
});
