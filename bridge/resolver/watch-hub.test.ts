import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { endpoint, FakeSource } from './testing/fixtures.ts';
import { WatchHub } from './watch-hub.ts';

const A = { namespace: 'ns', name: 'a' };
const B = { namespace: 'ns', name: 'b' };

function setup(maxTombstones?: number) {
  const src = new FakeSource('k8s');
  src.put(A, [endpoint('k8s', '10.0.0.1')]);
  const catalog = new Catalog([src]);
  catalog.start();
  const errors: unknown[] = [];
  const hub = new WatchHub(catalog, { onError: (e) => errors.push(e), ...(maxTombstones === undefined ? {} : { maxTombstones }) });
  hub.start();
  return { src, catalog, hub, errors };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WatchHub indexes', () => {
  it('compares against the entry revision while the service exists', () => {
    const { hub, catalog } = setup();
    const rev = catalog.get(A)?.revision ?? 0;
    expect(hub.index(A)).toBe(rev);
    expect(hub.changedSince(A, rev - 1)).toBe(true);
    expect(hub.changedSince(A, rev)).toBe(false);
  });

  it('treats an index ahead of the catalog as stale', () => {
    const { hub, catalog } = setup();
    expect(hub.changedSince(A, catalog.revision() + 1)).toBe(true);
  });

  it('remembers deletions, and forgets the oldest beyond the bound', () => {
    const { hub, src, catalog } = setup(1);
    const before = hub.index(A);
    src.remove(A);
    const deletedAt = catalog.revision();
    expect(hub.index(A)).toBe(deletedAt);
    expect(hub.changedSince(A, before)).toBe(true);
    expect(hub.changedSince(A, deletedAt)).toBe(false);

    src.put(B, [endpoint('k8s', '10.0.0.2')]);
    src.remove(B); // evicts A's tombstone
    expect(hub.index(A)).toBe(catalog.revision());
    // Forgotten: a holder of the old index now waits its full wait instead of learning at once.
    expect(hub.changedSince(A, before)).toBe(false);
  });

  it('does not wake a never-seen service for unrelated changes', () => {
    const { hub, src } = setup();
    const idx = hub.index(B);
    src.put({ namespace: 'ns', name: 'c' }, [endpoint('k8s', '10.0.0.3')]);
    expect(hub.changedSince(B, idx)).toBe(false);
  });
});

describe('WatchHub.wait', () => {
  it('resolves on a change of its own ref only, and cleans up', async () => {
    const { hub, src } = setup();
    const waiting = hub.wait(A, hub.index(A), 60_000);
    src.put(B, []);
    expect(hub.watcherCount()).toBe(1);
    src.put(A, [endpoint('k8s', '10.0.0.9')]);
    await expect(waiting).resolves.toBe('changed');
    expect(hub.watcherCount()).toBe(0);
  });

  it('times out, aborts and drains', async () => {
    const { hub } = setup();
    const timeout = hub.wait(A, hub.index(A), 1_000);
    const ac = new AbortController();
    const aborted = hub.wait(A, hub.index(A), 1_000_000, ac.signal);
    const drained = hub.wait(A, hub.index(A), 1_000_000);
    expect(hub.watcherCount()).toBe(3);
    ac.abort();
    await expect(aborted).resolves.toBe('aborted');
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(timeout).resolves.toBe('timeout');
    hub.drain();
    await expect(drained).resolves.toBe('drained');
    expect(hub.watcherCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await expect(hub.wait(A, hub.index(A), 1_000)).resolves.toBe('drained');
  });

  it('keeps a throwing watcher away from the catalog', () => {
    const { hub, src, errors } = setup();
    hub.watch(A, {
      changed: () => {
        throw new Error('bad watcher');
      },
      drained: () => undefined,
    });
    expect(() => { src.put(A, []); }).not.toThrow();
    expect(errors).toHaveLength(1);
  });
});

describe('WatchHub catalog-wide watchers', () => {
  it('see every service change, count toward the bound like any watcher, and are drained', () => {
    const { hub, src } = setup();
    const seen: string[] = [];
    let drained = 0;
    const watcher = { changed: (e: { ref: { name: string } }) => { seen.push(e.ref.name); }, drained: () => { drained++; } };
    const unwatch = hub.watchAll(watcher);
    hub.watchAll(watcher);
    expect(hub.watcherCount()).toBe(1);
    src.put(A, [endpoint('k8s', '10.0.0.2')]);
    src.put(B, [endpoint('k8s', '10.0.0.3')]);
    expect(seen).toEqual(['a', 'b']);
    unwatch();
    unwatch();
    expect(hub.watcherCount()).toBe(0);
    hub.watchAll(watcher);
    hub.drain();
    expect(drained).toBe(1);
    expect(hub.watcherCount()).toBe(0);
  });
});
