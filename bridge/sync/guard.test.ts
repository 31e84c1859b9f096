import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type RoutePolicy } from '../model/index.ts';
import { ep } from './testing/fixture.ts';
import { guardRemovals } from './guard.ts';

const policy: RoutePolicy = { ...DEFAULT_POLICY, deleteGuard: { maxShrinkPercent: 50, holdSeconds: 60, registryEmpty: 'hold' } };
const four = [1, 2, 3, 4].map((i) => ep(`10.0.0.${i}`, 80, i <= 2 ? 'vm' : 'nacos'));

describe('guardRemovals', () => {
  it('lets through a shrink of at most maxShrinkPercent', () => {
    expect(guardRemovals({ removed: four.slice(0, 2), actualCount: 4, policy, frozen: new Map(), heldSince: undefined, now: 0 })).toEqual({ hold: false });
  });

  it('holds a larger shrink, then releases it holdSeconds after it began', () => {
    const first = guardRemovals({ removed: four.slice(0, 3), actualCount: 4, policy, frozen: new Map(), heldSince: undefined, now: 1000 });
    expect(first).toMatchObject({ hold: true, shrink: true, releaseAt: 61_000 });
    const still = guardRemovals({ removed: four.slice(0, 3), actualCount: 4, policy, frozen: new Map(), heldSince: 1000, now: 60_999 });
    expect(still.hold).toBe(true);
    const released = guardRemovals({ removed: four.slice(0, 3), actualCount: 4, policy, frozen: new Map(), heldSince: 1000, now: 61_000 });
    expect(released).toEqual({ hold: false });
  });

  it('freezes only the endpoints of an unreachable origin, with no timer', () => {
    const frozen = new Map([['nacos', 'source nacos is unreachable']]);
    const d = guardRemovals({ removed: four.slice(1, 4), actualCount: 8, policy, frozen, heldSince: undefined, now: 0 });
    expect(d.hold).toBe(true);
    if (!d.hold) return;
    expect(d.keep.map((e) => e.address)).toEqual(['10.0.0.3', '10.0.0.4']);
    expect(d.shrink).toBe(false);
    expect(d.releaseAt).toBeUndefined();
    expect(d.reason).toBe('source nacos is unreachable');
  });

  it('holds until the sources change when holdSeconds is 0', () => {
    const p: RoutePolicy = { ...policy, deleteGuard: { ...policy.deleteGuard, holdSeconds: 0 } };
    const d = guardRemovals({ removed: four, actualCount: 4, policy: p, frozen: new Map(), heldSince: 0, now: 10_000_000 });
    expect(d).toMatchObject({ hold: true, shrink: true });
  });

  it('judges removals against the most the sink held in the recent window', () => {
    // Two of three went in two passes: 1 of 3 earlier (let through), now 1 of 2 — with the peak
    // of 3 that is 2 of 3, held; only this pass's removal is kept.
    const d = guardRemovals({ removed: four.slice(0, 1), actualCount: 2, recentPeak: 3, policy, frozen: new Map(), heldSince: undefined, now: 0 });
    expect(d).toMatchObject({ hold: true, shrink: true, releaseAt: 60_000 });
    if (!d.hold) return;
    expect(d.keep.map((e) => e.address)).toEqual(['10.0.0.1']);
    expect(d.reason).toMatch(/^2 of 3 endpoints \(67%\) would go in a short window \(1 now, 1 already just before\)/);
    // The same pass with no recent peak (or an older, lower one) goes through, as before.
    expect(guardRemovals({ removed: four.slice(0, 1), actualCount: 2, policy, frozen: new Map(), heldSince: undefined, now: 0 })).toEqual({ hold: false });
    expect(guardRemovals({ removed: four.slice(0, 1), actualCount: 2, recentPeak: 2, policy, frozen: new Map(), heldSince: undefined, now: 0 })).toEqual({ hold: false });
  });

  it('a recent peak alone holds nothing: a pass that removes nothing is never held', () => {
    expect(guardRemovals({ removed: [], actualCount: 1, recentPeak: 10, policy, frozen: new Map(), heldSince: undefined, now: 0 })).toEqual({ hold: false });
  });
});
