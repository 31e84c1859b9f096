import { describe, expect, it } from 'vitest';
import { forEachBounded } from './bounded.ts';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

describe('forEachBounded', () => {
  it('keeps at most `limit` calls in flight and visits every item', async () => {
    let inFlight = 0;
    let max = 0;
    const seen: number[] = [];
    await forEachBounded([...Array(50).keys()], 4, async (i) => {
      max = Math.max(max, ++inFlight);
      await tick();
      seen.push(i);
      inFlight--;
    });
    expect(max).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });

  it('throws the first error only after the calls in flight settled, and starts no more', async () => {
    let inFlight = 0;
    const started: number[] = [];
    const run = forEachBounded([...Array(20).keys()], 3, async (i) => {
      started.push(i);
      inFlight++;
      await tick();
      inFlight--;
      if (i === 1) throw new Error('boom');
    });
    await expect(run).rejects.toThrow('boom');
    expect(inFlight).toBe(0);
    expect(started.length).toBeLessThan(20);
  });
});
