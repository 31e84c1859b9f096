import { describe, expect, it } from 'vitest';
import { RetryLimiter } from './rate-limiter.ts';

describe('RetryLimiter', () => {
  it('backs off exponentially per key up to the cap, and forget resets', () => {
    const now = 0;
    const l = new RetryLimiter({ baseMs: 100, maxMs: 1000, perSecond: 1000, burst: 1000 }, () => now);
    expect([l.when('a'), l.when('a'), l.when('a'), l.when('a'), l.when('a')]).toEqual([100, 200, 400, 800, 1000]);
    expect(l.when('b')).toBe(100);
    l.forget('a');
    expect(l.when('a')).toBe(100);
  });

  it('paces retries globally once the burst is spent', () => {
    const l = new RetryLimiter({ baseMs: 1, maxMs: 1, perSecond: 10, burst: 2 }, () => 0);
    const delays = ['a', 'b', 'c', 'd'].map((k) => l.when(k));
    expect(delays).toEqual([1, 1, 100, 200]);
  });
});
