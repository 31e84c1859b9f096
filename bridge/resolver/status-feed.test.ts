import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StatusFeed } from './status-feed.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('StatusFeed', () => {
  it('renders only when the fingerprint moves, and notifies only when the rendering changes', async () => {
    const state = { print: 'a', body: 'x' };
    const render = vi.fn(() => state.body);
    const feed = new StatusFeed({ render, fingerprint: () => state.print, intervalMs: 1000 });
    const changed = vi.fn();
    const unsubscribe = feed.subscribe(changed);
    expect(render).toHaveBeenCalledTimes(1);
    expect(feed.version).toBe(1);

    await vi.advanceTimersByTimeAsync(5000);
    expect(render).toHaveBeenCalledTimes(1);
    expect(changed).not.toHaveBeenCalled();

    // The fingerprint moved but the rendering came out the same: rendered, nobody told.
    state.print = 'b';
    await vi.advanceTimersByTimeAsync(1000);
    expect(render).toHaveBeenCalledTimes(2);
    expect(changed).not.toHaveBeenCalled();

    state.print = 'c';
    state.body = 'y';
    await vi.advanceTimersByTimeAsync(1000);
    expect(changed).toHaveBeenCalledTimes(1);
    expect(feed.body()).toBe('y');
    expect(feed.version).toBe(2);

    unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs no timer without listeners and renders on demand', () => {
    let n = 0;
    const feed = new StatusFeed({ render: () => String(++n), intervalMs: 1000 });
    expect(vi.getTimerCount()).toBe(0);
    expect(feed.body()).toBe('1');
    expect(feed.body()).toBe('2');
  });
});
