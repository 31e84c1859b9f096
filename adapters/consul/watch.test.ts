import { describe, expect, it } from 'vitest';
import { WatchRateLimit, backoffMs, nextIndex } from './watch.ts';

describe('blocking-query index rules', () => {
  it('moves forward, resets to 0 when the index goes backwards, and never blocks on index 0', () => {
    expect(nextIndex(0, 17)).toEqual({ index: 17, reset: false });
    expect(nextIndex(17, 17)).toEqual({ index: 17, reset: false });
    expect(nextIndex(17, 5)).toEqual({ index: 0, reset: true });
    expect(nextIndex(0, 0)).toEqual({ index: 1, reset: false });
  });

  it('backs off exponentially with jitter up to the cap', () => {
    expect(backoffMs(1, 10_000, () => 1)).toBe(250);
    expect(backoffMs(3, 10_000, () => 1)).toBe(1000);
    expect(backoffMs(30, 10_000, () => 1)).toBe(10_000);
    expect(backoffMs(30, 10_000, () => 0)).toBe(5000);
  });

  it('rate-limits a spinning loop with a burst of 2', () => {
    const limit = new WatchRateLimit(100);
    const t = Date.now();
    expect(limit.take(t)).toBe(0);
    expect(limit.take(t)).toBe(0);
    expect(limit.take(t)).toBe(100);
    expect(limit.take(t + 1000)).toBe(0);
  });
});
