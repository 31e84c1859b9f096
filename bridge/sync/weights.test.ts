import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors/index.ts';
import { Weights } from './weights.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };

function thrown(fn: () => void): BridgeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BridgeError) return err;
    throw err;
  }
  throw new Error('expected a BridgeError');
}

describe('Weights with the configured registries', () => {
  it('refuses a split naming a registry that is not configured, naming it and the configured ones', () => {
    const weights = new Weights({ 'shop/orders': { vm: 90, k8s: 10 } }, { registries: ['vm', 'k8s'] });
    const changed: string[] = [];
    weights.onChange((ref) => changed.push(ref.name));
    // The typo that used to give every k8s endpoint weight 0.
    const err = thrown(() => { weights.set(ORDERS, { vm: 10, k8: 90 }); });
    expect(err.code).toBe('ISTHMUS_UNKNOWN_REGISTRY');
    expect(err.message).toBe('weights for shop/orders: registry "k8" is not configured; configured registries: k8s, vm');
    expect(err.details).toEqual({ unknown: ['k8'], configured: ['k8s', 'vm'] });
    expect(weights.get(ORDERS)).toEqual({ vm: 90, k8s: 10 });
    expect(changed).toEqual([]);
  });

  it('names every unknown id at once', () => {
    const weights = new Weights({}, { registries: ['vm'] });
    expect(thrown(() => { weights.set(ORDERS, { vm: 1, a: 1, b: 1 }); }).message).toMatch(/registries "a", "b" are not configured; configured registries: vm$/);
  });

  it('accepts configured ids, and lists them', () => {
    const weights = new Weights({}, { registries: ['vm', 'k8s'] });
    weights.set(ORDERS, { vm: 50, k8s: 50 });
    expect(weights.get(ORDERS)).toEqual({ vm: 50, k8s: 50 });
    expect(weights.registries()).toEqual(['k8s', 'vm']);
  });

  it('still refuses a malformed split as ISTHMUS_USAGE first', () => {
    const weights = new Weights({}, { registries: ['vm'] });
    expect(thrown(() => { weights.set(ORDERS, { 'Not An Id': 1 }); }).code).toBe('ISTHMUS_USAGE');
  });
});

describe('Weights layers: ServiceMigration, then runtime, then config', () => {
  const PAY = { namespace: 'shop', name: 'pay' };

  it('takes the declared split first and says where each split comes from', () => {
    const weights = new Weights({ 'shop/orders': { vm: 90, k8s: 10 } });
    expect(weights.origin(ORDERS)).toBe('config');
    weights.set(ORDERS, { vm: 50, k8s: 50 });
    expect([weights.get(ORDERS), weights.origin(ORDERS)]).toEqual([{ vm: 50, k8s: 50 }, 'runtime']);
    weights.declare(new Map([['shop/orders', { vm: 10, k8s: 90 }], ['shop/pay', { vm: 1 }]]));
    expect([weights.get(ORDERS), weights.origin(ORDERS)]).toEqual([{ vm: 10, k8s: 90 }, 'migration']);
    expect(weights.all()).toEqual({ 'shop/orders': { vm: 10, k8s: 90 }, 'shop/pay': { vm: 1 } });
    weights.declare(new Map());
    expect(weights.get(ORDERS)).toEqual({ vm: 50, k8s: 50 });
    expect(weights.get(PAY)).toBeUndefined();
    weights.set(ORDERS, undefined);
    expect(weights.get(ORDERS)).toEqual({ vm: 90, k8s: 10 });
  });

  it('tells listeners only about services whose effective split changed', () => {
    const weights = new Weights({ 'shop/orders': { vm: 90, k8s: 10 } });
    const seen: string[] = [];
    weights.onChange((ref) => seen.push(ref.name));
    weights.declare(new Map([['shop/orders', { vm: 90, k8s: 10 }], ['shop/pay', { vm: 1 }]]));
    expect(seen).toEqual(['pay']); // orders: same split as the config's
    weights.declare(new Map([['shop/orders', { vm: 90, k8s: 10 }], ['shop/pay', { vm: 1 }]]));
    expect(seen).toEqual(['pay']);
    weights.declare(new Map([['shop/orders', { vm: 50, k8s: 50 }]]));
    expect(seen).toEqual(['pay', 'orders', 'pay']);
  });

  it('names the problem of a split it would refuse, without throwing', () => {
    const weights = new Weights({}, { registries: ['vm', 'k8s'] });
    expect(weights.problem(ORDERS, { vm: 50, k8s: 50 })).toBeUndefined();
    expect(weights.problem(ORDERS, { vm: 50, k8: 50 })).toMatch(/"k8" is not configured/);
    expect(weights.problem(ORDERS, { vm: -1 })).toMatch(/share of vm/);
  });
});
