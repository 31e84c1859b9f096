import { describe, expect, it, vi } from 'vitest';
import type { ListResult, WatchEventType, WatchHandle } from './client.ts';
import { type ListWatchApi, Reflector } from './reflector.ts';
import type { ObjectMeta } from './types.ts';

type Obj = { metadata?: ObjectMeta };
const obj = (name: string, rv: string): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

/** A scripted API: lists return `items`; each watch is held open until the test ends it. */
class FakeApi implements ListWatchApi<Obj> {
  items: Obj[] = [];
  rv = '10';
  listCalls = 0;
  watchFrom: string[] = [];
  failList: Error | undefined;
  failWatch: Error | undefined;
  current: { onEvent: (t: WatchEventType, o: unknown) => void; done: (err: unknown) => void } | undefined;

  list(): Promise<ListResult<Obj>> {
    this.listCalls++;
    if (this.failList !== undefined) return Promise.reject(this.failList);
    return Promise.resolve({ items: this.items.map((o) => structuredClone(o)), resourceVersion: this.rv });
  }

  watch(rv: string, onEvent: (t: WatchEventType, o: unknown) => void, done: (err: unknown) => void): Promise<WatchHandle> {
    this.watchFrom.push(rv);
    if (this.failWatch !== undefined) {
      done(this.failWatch);
      return Promise.resolve({ abort: () => undefined });
    }
    this.current = { onEvent, done };
    return Promise.resolve({ abort: () => { done(null); } });
  }
}

function setup(api: FakeApi) {
  const changes: [string, string | undefined][] = [];
  const r = new Reflector<Obj>(api, { minBackoffMs: 10, maxBackoffMs: 40, onChange: (key, next) => changes.push([key, next?.metadata?.resourceVersion]) });
  const abort = new AbortController();
  r.start(abort.signal);
  return { r, changes, abort };
}

const WAIT = { timeout: 2000, interval: 5 };

describe('Reflector', () => {
  it('lists, then watches from the list resourceVersion and applies events', async () => {
    const api = new FakeApi();
    api.items = [obj('a', '5')];
    const { r, changes, abort } = setup(api);
    await vi.waitFor(() => { expect(api.current).toBeDefined(); }, WAIT);
    expect(r.synced).toBe(true);
    expect(api.watchFrom).toEqual(['10']);
    api.current!.onEvent('MODIFIED', obj('a', '11'));
    api.current!.onEvent('ADDED', obj('b', '12'));
    api.current!.onEvent('DELETED', obj('a', '13'));
    api.current!.onEvent('BOOKMARK', { metadata: { resourceVersion: '20' } });
    expect(changes).toEqual([['ns/a', '5'], ['ns/a', '11'], ['ns/b', '12'], ['ns/a', undefined]]);
    expect(api.watchFrom).toEqual(['10']);
    api.current!.done(null);
    await vi.waitFor(() => { expect(api.watchFrom).toEqual(['10', '20']); }, WAIT); // rewatch from the bookmark
    expect(api.listCalls).toBe(1);
    abort.abort();
    await r.stopped();
  });

  it('relists on 410 Gone and reports objects that vanished meanwhile as deleted', async () => {
    const api = new FakeApi();
    api.items = [obj('a', '5'), obj('b', '6')];
    const { r, changes, abort } = setup(api);
    await vi.waitFor(() => { expect(api.current).toBeDefined(); }, WAIT);
    api.items = [obj('a', '5')];
    api.rv = '30';
    const w = api.current!;
    api.current = undefined;
    w.onEvent('ERROR', { code: 410 });
    w.done(null);
    await vi.waitFor(() => { expect(api.listCalls).toBe(2); }, WAIT);
    await vi.waitFor(() => { expect(api.watchFrom.at(-1)).toBe('30'); }, WAIT);
    expect(changes.at(-1)).toEqual(['ns/b', undefined]);
    abort.abort();
    await r.stopped();
  });

  it('keeps the cache and reports unreachable while the server is away, then recovers', async () => {
    const api = new FakeApi();
    api.items = [obj('a', '5')];
    const { r, changes, abort } = setup(api);
    await vi.waitFor(() => { expect(api.current).toBeDefined(); }, WAIT);
    api.failWatch = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    api.current!.done(api.failWatch);
    await vi.waitFor(() => { expect(r.reachable).toBe(false); }, WAIT);
    expect(r.lastError).toMatch(/ECONNREFUSED/);
    expect([...r.items()]).toHaveLength(1); // frozen, not cleared
    const tries = api.watchFrom.length;
    await vi.waitFor(() => { expect(api.watchFrom.length).toBeGreaterThan(tries + 2); }, WAIT); // retried with backoff
    api.failWatch = undefined;
    await vi.waitFor(() => { expect(r.reachable).toBe(true); }, WAIT);
    expect(api.listCalls).toBe(1); // resumed from the resourceVersion, no relist needed
    expect(changes).toHaveLength(1);
    abort.abort();
    await r.stopped();
  });

  it('reports every answer and every failure, not only changes of state (health reads them)', async () => {
    const api = new FakeApi();
    const heard: string[] = [];
    const r = new Reflector<Obj>(api, { minBackoffMs: 10, maxBackoffMs: 40, onChange: () => undefined, onContact: () => heard.push('contact'), onFailure: (m) => heard.push(m) });
    const abort = new AbortController();
    r.start(abort.signal);
    await vi.waitFor(() => { expect(api.current).toBeDefined(); }, WAIT);
    heard.length = 0;
    api.current!.onEvent('BOOKMARK', { metadata: { resourceVersion: '11' } });
    api.current!.onEvent('BOOKMARK', { metadata: { resourceVersion: '12' } });
    expect(heard).toEqual(['contact', 'contact']);
    api.failWatch = new Error('first');
    api.current!.done(api.failWatch);
    await vi.waitFor(() => { expect(heard.filter((h) => h === 'first').length).toBeGreaterThan(1); }, WAIT);
    abort.abort();
    await r.stopped();
  });

  it('is not synced and not reachable until the first list succeeds', async () => {
    const api = new FakeApi();
    api.failList = new Error('forbidden');
    const { r, abort } = setup(api);
    await vi.waitFor(() => { expect(api.listCalls).toBeGreaterThan(1); }, WAIT);
    expect(r.synced).toBe(false);
    expect(r.reachable).toBe(false);
    api.failList = undefined;
    await vi.waitFor(() => { expect(r.synced).toBe(true); }, WAIT);
    abort.abort();
    await r.stopped();
  });

  it('write-through: our own writes show at once, and a late older watch event does not undo them', async () => {
    const api = new FakeApi();
    api.items = [obj('a', '5')];
    const { r, abort } = setup(api);
    await vi.waitFor(() => { expect(api.current).toBeDefined(); }, WAIT);
    r.remember(obj('a', '40'));
    expect(r.get('ns/a')?.metadata?.resourceVersion).toBe('40');
    api.current!.onEvent('MODIFIED', obj('a', '39')); // delivered late, older than our write
    expect(r.get('ns/a')?.metadata?.resourceVersion).toBe('40');
    api.current!.onEvent('MODIFIED', obj('a', '41'));
    expect(r.get('ns/a')?.metadata?.resourceVersion).toBe('41');
    r.forget(obj('a', '41').metadata);
    expect(r.get('ns/a')).toBeUndefined();
    abort.abort();
    await r.stopped();
  });
});
