import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../model/index.ts';
import { applySplit, splitProblem } from './split.ts';
import { Weights } from './weights.ts';

function ep(registry: string, address: string, over: Partial<Endpoint> = {}): Endpoint {
  return {
    address,
    ports: { grpc: 50051 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry, nativeId: address },
    ...over,
  };
}

const weights = (eps: readonly Endpoint[]): number[] => eps.map((e) => e.weight);

describe('applySplit', () => {
  it('gives each origin its share of MAX_WEIGHT, divided by endpoint weight', () => {
    const eps = [ep('vm', '10.0.0.1'), ep('vm', '10.0.0.2', { weight: 300 }), ep('k8s', '10.1.0.1')];
    expect(weights(applySplit(eps, { vm: 90, k8s: 10 }))).toEqual([2250, 6750, 1000]);
  });

  it('returns the same array without a split', () => {
    const eps = [ep('vm', '10.0.0.1')];
    expect(applySplit(eps, undefined)).toBe(eps);
  });

  it('renormalises when an origin has no ready endpoint (failover)', () => {
    const eps = [ep('vm', '10.0.0.1', { ready: false }), ep('k8s', '10.1.0.1'), ep('k8s', '10.1.0.2')];
    expect(weights(applySplit(eps, { vm: 90, k8s: 10 }))).toEqual([100, 5000, 5000]);
  });

  it('drains unlisted origins while a listed one serves, and leaves weights alone when none does', () => {
    const eps = [ep('vm', '10.0.0.1'), ep('consul', '10.2.0.1')];
    expect(weights(applySplit(eps, { vm: 100 }))).toEqual([10_000, 0]);
    const orphan = [ep('consul', '10.2.0.1')];
    expect(applySplit(orphan, { vm: 100 })).toBe(orphan);
  });

  it('never rounds a ready endpoint down to zero', () => {
    const many = Array.from({ length: 50 }, (_, i) => ep('k8s', `10.1.0.${i}`));
    const out = applySplit([ep('vm', '10.0.0.1'), ...many], { vm: 99.99, k8s: 0.01 });
    expect(out.slice(1).every((e) => e.weight === 1)).toBe(true);
  });

  it('scales against the anchor origin, whose records it may not rewrite', () => {
    // Two native VM instances at 100 in the sink; pods must together weigh a ninth of them.
    const eps = [ep('nacos', '10.0.0.1'), ep('nacos', '10.0.0.2'), ep('k8s', '10.1.0.1'), ep('k8s', '10.1.0.2')];
    const out = applySplit(eps, { nacos: 90, k8s: 10 }, 'nacos');
    expect(weights(out)).toEqual([100, 100, 11, 11]);
    expect(out[0]).toBe(eps[0]);
  });

  it('falls back to absolute shares when the anchor has nothing ready', () => {
    const eps = [ep('k8s', '10.1.0.1')];
    expect(weights(applySplit(eps, { nacos: 90, k8s: 10 }, 'nacos'))).toEqual([10_000]);
  });
});

describe('splitProblem and Weights', () => {
  it('refuses empty, negative, all-zero and badly named splits', () => {
    expect(splitProblem({})).toMatch(/at least one origin/);
    expect(splitProblem({ vm: -1 })).toMatch(/0 to 10000/);
    expect(splitProblem({ vm: 0 })).toMatch(/above 0/);
    expect(splitProblem({ 'VM!': 1 })).toMatch(/not a registry id/);
    expect(splitProblem({ vm: '90' })).toMatch(/must be a number/);
    expect(splitProblem({ vm: 90, k8s: 10 })).toBeUndefined();
  });

  it('stores, reports and clears splits, telling listeners once per change', () => {
    const w = new Weights({ 'shop/orders': { vm: 90, k8s: 10 } });
    const seen: string[] = [];
    w.onChange((ref) => seen.push(`${ref.namespace}/${ref.name}`));
    const orders = { namespace: 'shop', name: 'orders' };
    expect(w.get(orders)).toEqual({ vm: 90, k8s: 10 });
    w.set(orders, { vm: 50, k8s: 50 });
    expect(w.all()).toEqual({ 'shop/orders': { vm: 50, k8s: 50 } });
    expect(() => { w.set(orders, { vm: -5 }); }).toThrow(/ISTHMUS_USAGE|0 to 10000/);
    // Clearing the runtime split returns to the config file's; clearing again changes nothing.
    w.set(orders, undefined);
    w.set(orders, undefined);
    expect(w.get(orders)).toEqual({ vm: 90, k8s: 10 });
    w.set({ namespace: 'shop', name: 'pay' }, { vm: 1 });
    w.set({ namespace: 'shop', name: 'pay' }, undefined);
    expect(w.get({ namespace: 'shop', name: 'pay' })).toBeUndefined();
    expect(seen).toEqual(['shop/orders', 'shop/orders', 'shop/pay', 'shop/pay']);
  });
});
