import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue({ quietMs: 10, maxDelayMs: 100 });
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    expect(q.depth).toBe(2);
    await vi.advanceTimersByTimeAsync(10);
    const first = await q.get();
    const second = await q.get();
    expect([first?.key, second?.key].sort()).toEqual(['a', 'b']);
    expect(q.depth).toBe(0);
  });

  it('never hands out a key that is being processed; an add meanwhile comes back after done', async () => {
    const q = new WorkQueue({ quietMs: 0, maxDelayMs: 0 });
    q.add('a');
    await vi.advanceTimersByTimeAsync(0);
    const item = await q.get();
    expect(item?.key).toBe('a');
    q.add('a');
    await vi.advanceTimersByTimeAsync(50);
    let handed: string | undefined;
    void q.get().then((i) => { handed = i?.key; });
    await vi.advanceTimersByTimeAsync(50);
    expect(handed).toBeUndefined();
    q.done('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(handed).toBe('a');
  });

  it('debounces: ready quietMs after the last add, but no later than maxDelayMs after the first', async () => {
    const q = new WorkQueue({ quietMs: 30, maxDelayMs: 100 });
    let got: number | undefined;
    void q.get().then(() => { got = Date.now(); });
    const start = Date.now();
    for (let t = 0; t < 200; t += 20) {
      q.add('a');
      await vi.advanceTimersByTimeAsync(20);
    }
    expect(got).toBeDefined();
    expect(got! - start).toBe(100);
  });

  it('addAfter delays without being extended by later retries, and a fresh add wins', async () => {
    const q = new WorkQueue({ quietMs: 5, maxDelayMs: 50 });
    q.addAfter('a', 1000);
    q.addAfter('a', 5000);
    expect(q.activeDepth).toBe(0);
    let key: string | undefined;
    void q.get().then((i) => { key = i?.key; });
    await vi.advanceTimersByTimeAsync(999);
    expect(key).toBeUndefined();
    q.add('a');
    await vi.advanceTimersByTimeAsync(5);
    expect(key).toBe('a');
  });

  it('shutdown releases waiting workers with undefined', async () => {
    const q = new WorkQueue({ quietMs: 5, maxDelayMs: 50 });
    const waiting = q.get();
    q.shutdown();
    await expect(waiting).resolves.toBeUndefined();
    q.add('a');
    expect(q.depth).toBe(0);
  });
});

describe('WorkQueue addAfter while processing', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('parks the key until done, then keeps the delay (no busy loop)', async () => {
    const q = new WorkQueue({ quietMs: 0, maxDelayMs: 0 });
    q.add('a');
    await vi.advanceTimersByTimeAsync(0);
    await q.get();
    q.addAfter('a', 1000);
    q.done('a');
    expect(q.activeDepth).toBe(0);
    let key: string | undefined;
    void q.get().then((i) => { key = i?.key; });
    await vi.advanceTimersByTimeAsync(999);
    expect(key).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(key).toBe('a');
  });
});
