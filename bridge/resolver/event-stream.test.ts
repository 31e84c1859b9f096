import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { openEventStream } from './event-stream.ts';
import { endpoint, FakeSource } from './testing/fixtures.ts';
import { WatchHub } from './watch-hub.ts';

const A = { namespace: 'ns', name: 'a' };

function setup() {
  const src = new FakeSource('k8s');
  src.put(A, [endpoint('k8s', '10.0.0.1')]);
  const catalog = new Catalog([src]);
  catalog.start();
  const hub = new WatchHub(catalog);
  hub.start();
  const stream = openEventStream({
    hub,
    catalog,
    ref: A,
    lastEventId: undefined,
    render: (e) => JSON.stringify({ revision: e.revision, n: e.endpoints.length }),
    timing: { quietMs: 100, maxDelayMs: 300, heartbeatMs: 60_000 },
  });
  const ids = (): number[] => {
    const text = String(stream.read() ?? '');
    return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  };
  return { src, catalog, hub, stream, ids };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('event stream coalescing', () => {
  it('waits for a quiet period, but never longer than the maximum delay', async () => {
    const { src, catalog, stream, ids } = setup();
    expect(ids()).toEqual([catalog.revision()]);
    // A change every 50 ms never leaves 100 ms of quiet; the 300 ms cap still sends one.
    for (let i = 0; i < 5; i++) {
      src.put(A, [endpoint('k8s', `10.0.1.${i}`)]);
      await vi.advanceTimersByTimeAsync(50);
    }
    // t=250: nothing yet; at t=300 the state then current goes out.
    expect(ids()).toEqual([]);
    src.put(A, [endpoint('k8s', '10.0.2.1')]);
    await vi.advanceTimersByTimeAsync(50);
    expect(ids()).toEqual([catalog.revision()]);
    stream.destroy();
  });

  it('sends the first change after a quiet time at once, then coalesces the rest of its burst', async () => {
    const { src, catalog, stream, ids } = setup();
    expect(ids()).toEqual([catalog.revision()]);
    await vi.advanceTimersByTimeAsync(150);
    // Two changes in one turn after a quiet time: one event, at once, with the later state.
    src.put(A, [endpoint('k8s', '10.0.4.1')]);
    src.put(A, [endpoint('k8s', '10.0.4.2')]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ids()).toEqual([catalog.revision()]);
    // The rest of the burst (every 10 ms) waits for 100 ms of quiet and goes out once.
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(10);
      src.put(A, [endpoint('k8s', `10.0.5.${i}`)]);
    }
    await vi.advanceTimersByTimeAsync(99);
    expect(ids()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ids()).toEqual([catalog.revision()]);
    // Quiet again: the next change is immediate again.
    await vi.advanceTimersByTimeAsync(150);
    src.put(A, [endpoint('k8s', '10.0.6.1')]);
    await vi.advanceTimersByTimeAsync(1);
    expect(ids()).toEqual([catalog.revision()]);
    stream.destroy();
  });

  it('holds at most one state for a client that does not read', async () => {
    const { src, catalog, stream, ids } = setup();
    // Fill the buffer past its high-water mark so the stream reports back-pressure.
    stream.write('x'.repeat(stream.writableHighWaterMark * 2));
    for (let i = 0; i < 20; i++) {
      src.put(A, [endpoint('k8s', `10.0.3.${i}`)]);
      await vi.advanceTimersByTimeAsync(150);
    }
    // Reading drains the buffer: after the first snapshot comes the latest state, once, not twenty.
    const seen = ids();
    await vi.advanceTimersByTimeAsync(0);
    seen.push(...ids());
    expect(seen).toEqual([catalog.revision() - 20, catalog.revision()]);
    stream.destroy();
  });

  it('releases its watcher and timers when destroyed', async () => {
    const { hub, stream } = setup();
    expect(hub.watcherCount()).toBe(1);
    stream.destroy();
    await vi.advanceTimersByTimeAsync(0);
    expect(hub.watcherCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
