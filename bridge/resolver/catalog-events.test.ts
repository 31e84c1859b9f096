import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { openCatalogEvents } from './catalog-events.ts';
import { consoleCatalog } from './console-view.ts';
import { StatusFeed } from './status-feed.ts';
import { endpoint, FakeSource } from './testing/fixtures.ts';
import { WatchHub } from './watch-hub.ts';

const A = { namespace: 'ns', name: 'a' };
const B = { namespace: 'ns', name: 'b' };

function setup(lastEventId?: number) {
  const src = new FakeSource('consul');
  src.put(A, [endpoint('consul', '10.0.0.1')]);
  const catalog = new Catalog([src]);
  catalog.start();
  const hub = new WatchHub(catalog, { maxWatchers: 2 });
  hub.start();
  const statusState = { held: 0 };
  const status = new StatusFeed({ render: () => JSON.stringify(statusState), intervalMs: 1000 });
  const stream = openCatalogEvents({
    hub,
    catalog,
    status,
    lastEventId,
    renderCatalog: () => JSON.stringify(consoleCatalog(catalog.revision(), catalog.list())),
    timing: { quietMs: 200, maxDelayMs: 1000, heartbeatMs: 15_000 },
  });
  const events = (): { event: string; id?: string; data: string }[] => {
    const text = String(stream.read() ?? '');
    return text.split('\n\n').filter((b) => b.startsWith('event:')).map((block) => {
      const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(block)?.[1];
      const id = field('id');
      return { event: field('event') ?? '', ...(id === undefined ? {} : { id }), data: field('data') ?? '' };
    });
  };
  return { src, catalog, hub, status, statusState, stream, events };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GET /v1/events stream', () => {
  it('sends the catalog and the status at once, the catalog with its revision as id', () => {
    const { catalog, stream, events } = setup();
    const got = events();
    expect(got.map((e) => e.event)).toEqual(['catalog', 'status']);
    expect(got[0]?.id).toBe(String(catalog.revision()));
    expect(got[1]?.id).toBeUndefined();
    const body = JSON.parse(got[0]?.data ?? '{}') as ReturnType<typeof consoleCatalog>;
    expect(body.services).toEqual([{ namespace: 'ns', name: 'a', revision: catalog.get(A)?.revision, registries: ['consul'], origins: [{ registry: 'consul', total: 1, ready: 1, draining: 0 }] }]);
    stream.destroy();
  });

  it('coalesces a burst of changes across services into one catalog event', async () => {
    const { src, catalog, stream, events } = setup();
    events();
    await vi.advanceTimersByTimeAsync(500);
    for (let i = 0; i < 10; i++) {
      src.put(i % 2 === 0 ? A : B, [endpoint('consul', `10.0.1.${i}`, { ready: i % 3 !== 0 })]);
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(400);
    const got = events().filter((e) => e.event === 'catalog');
    // The first change goes out at once (leading edge), the rest of the burst once it is quiet.
    expect(got.length).toBeLessThanOrEqual(2);
    expect(got.at(-1)?.id).toBe(String(catalog.revision()));
    stream.destroy();
  });

  it('sends status again only when its rendering changes, within one feed interval', async () => {
    const { statusState, stream, events } = setup();
    events();
    await vi.advanceTimersByTimeAsync(3000);
    expect(events()).toEqual([]);
    statusState.held = 2;
    // The feed's next tick notices, and the event goes out on the timer turn after it.
    await vi.advanceTimersByTimeAsync(1001);
    const got = events();
    expect(got.map((e) => e.event)).toEqual(['status']);
    expect(JSON.parse(got[0]?.data ?? '{}')).toEqual({ held: 2 });
    stream.destroy();
  });

  it('skips the first catalog event for a client resuming at the current revision', () => {
    const { events, stream, catalog } = setup(1);
    expect(catalog.revision()).toBe(1);
    expect(events().map((e) => e.event)).toEqual(['status']);
    stream.destroy();
  });

  it('sends everything again for a Last-Event-ID from before a restart', () => {
    const { events, stream } = setup(999);
    expect(events().map((e) => e.event)).toEqual(['catalog', 'status']);
    stream.destroy();
  });

  it('sends heartbeats, counts as a watcher and releases it, and the status timer, on close', async () => {
    const { hub, status, stream } = setup();
    stream.read();
    expect(hub.watcherCount()).toBe(1);
    expect(status.listeners).toBe(1);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(String(stream.read() ?? '')).toContain(': heartbeat');
    stream.destroy();
    await vi.advanceTimersByTimeAsync(0);
    expect(hub.watcherCount()).toBe(0);
    expect(status.listeners).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends on drain', async () => {
    const { hub, stream } = setup();
    stream.read();
    hub.drain();
    await vi.advanceTimersByTimeAsync(0);
    expect(stream.writableEnded).toBe(true);
    expect(hub.watcherCount()).toBe(0);
  });
});
