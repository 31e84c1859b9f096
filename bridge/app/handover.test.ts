import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TAKEOVER_MS, linger, lingerMs, MAX_LINGER_MS, onLeadershipChange, onLeadershipGained, RESYNC_MARGIN_MS } from './handover.ts';

describe('hand-over linger', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('is two takeover periods plus the resync margin, capped so shutdown fits its deadline', () => {
    expect(lingerMs({ takeoverMs: 2400 })).toBe(2 * 2400 + RESYNC_MARGIN_MS);
    expect(lingerMs({})).toBe(2 * DEFAULT_TAKEOVER_MS + RESYNC_MARGIN_MS);
    expect(lingerMs({ takeoverMs: 60_000 })).toBe(MAX_LINGER_MS);
    // Shutdown deadline 25 s: the linger leaves the earlier steps most of it.
    expect(MAX_LINGER_MS).toBeLessThanOrEqual(25_000 - 15_000);
  });

  it('resolves only once the linger has passed', async () => {
    let over = false;
    const p = linger(7800).then(() => { over = true; });
    await vi.advanceTimersByTimeAsync(7799);
    expect(over).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(over).toBe(true);
  });

  it('reports each transition to leader once, not while leading or following', async () => {
    let leading = false;
    const gained = vi.fn();
    const stop = onLeadershipGained({ isLeader: () => leading }, gained, 100);
    await vi.advanceTimersByTimeAsync(500);
    expect(gained).not.toHaveBeenCalled();
    leading = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(gained).toHaveBeenCalledTimes(1);
    leading = false;
    await vi.advanceTimersByTimeAsync(200);
    leading = true;
    await vi.advanceTimersByTimeAsync(200);
    expect(gained).toHaveBeenCalledTimes(2);
    stop();
    leading = false;
    await vi.advanceTimersByTimeAsync(200);
    leading = true;
    await vi.advanceTimersByTimeAsync(200);
    expect(gained).toHaveBeenCalledTimes(2);
  });

  it('does not report leadership held from the start (the engine starts as it is)', async () => {
    const gained = vi.fn();
    const stop = onLeadershipGained({ isLeader: () => true }, gained, 100);
    await vi.advanceTimersByTimeAsync(1000);
    expect(gained).not.toHaveBeenCalled();
    stop();
  });

  it('reports losses as well as gains to a change listener (the leader-changes metric counts both)', async () => {
    let leading = false;
    const seen: boolean[] = [];
    const stop = onLeadershipChange({ isLeader: () => leading }, (l) => seen.push(l), 100);
    await vi.advanceTimersByTimeAsync(300);
    leading = true;
    await vi.advanceTimersByTimeAsync(300);
    leading = false;
    await vi.advanceTimersByTimeAsync(300);
    stop();
    expect(seen).toEqual([true, false]);
  });

  it('follows the elector\'s own change events when it has them, without polling', async () => {
    const listeners = new Set<(leader: boolean) => void>();
    const isLeader = vi.fn(() => false);
    const gained = vi.fn();
    const stop = onLeadershipGained({ isLeader, onChange: (l) => { listeners.add(l); return () => listeners.delete(l); } }, gained, 100);
    await vi.advanceTimersByTimeAsync(1000);
    expect(isLeader).not.toHaveBeenCalled();
    for (const l of listeners) l(true);
    for (const l of listeners) l(false);
    expect(gained).toHaveBeenCalledTimes(1);
    stop();
    expect(listeners.size).toBe(0);
  });
});
