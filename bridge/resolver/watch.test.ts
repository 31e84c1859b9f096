import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Catalog, type CatalogEntry } from '../catalog/index.ts';
import { close, createHttpResolver, drain, listen, resolverStats, type HttpResolverOptions } from './http-resolver.ts';
import { endpoint, fakeStatus, FakeSource, SseReader } from './testing/fixtures.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };

let app: FastifyInstance | undefined;
const readers: SseReader[] = [];

afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  if (app !== undefined) await close(app);
  app = undefined;
});

function setup(options: HttpResolverOptions = {}) {
  const k8s = new FakeSource('k8s');
  k8s.put(ORDERS, [endpoint('k8s', '10.0.0.1')]);
  const catalog = new Catalog([k8s]);
  catalog.start();
  app = createHttpResolver({ catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }) }, options);
  const revision = (): number => catalog.get(ORDERS)?.revision ?? -1;
  return { app, catalog, k8s, revision };
}

/** The entry carried by an SSE message. */
const entryOf = (data: string | undefined): CatalogEntry => JSON.parse(data ?? '') as CatalogEntry;

const indexOf = (res: { headers: Record<string, unknown> }): number => Number(res.headers['x-isthmus-index']);

/** Resolves once `n` long-polls or streams are registered with the watch hub. */
async function watchers(a: FastifyInstance, n: number): Promise<void> {
  await vi.waitFor(() => { expect(resolverStats(a).watchers).toBe(n); });
}

describe('long-poll', () => {
  it('answers at once when the index is absent, zero or stale', async () => {
    const { app, revision } = setup();
    for (const query of ['', '?wait=30s', '?index=0&wait=30s', `?index=${revision() - 1}&wait=5m`]) {
      const res = await app.inject(`/v1/services/shop/orders${query}`);
      expect(res.statusCode, query).toBe(200);
      expect(indexOf(res), query).toBe(revision());
    }
  });

  it('answers at once when the index is ahead of the catalog (the bridge restarted)', async () => {
    const { app, revision } = setup();
    const res = await app.inject(`/v1/services/shop/orders?index=${revision() + 1000}&wait=5m`);
    expect(indexOf(res)).toBe(revision());
  });

  it('blocks until the service changes, then answers the new state with a higher index', async () => {
    const { app, k8s, revision } = setup();
    const before = revision();
    const pending = app.inject(`/v1/services/shop/orders?index=${before}&wait=30s&healthy=true`);
    await watchers(app, 1);
    k8s.put(ORDERS, [endpoint('k8s', '10.0.0.1'), endpoint('k8s', '10.0.0.2'), endpoint('k8s', '10.0.0.3', { ready: false })]);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(indexOf(res)).toBeGreaterThan(before);
    expect(indexOf(res)).toBe(revision());
    expect(res.json<CatalogEntry>().endpoints.map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(resolverStats(app).watchers).toBe(0);
  });

  it('is not woken by changes to other services', async () => {
    const { app, k8s, revision } = setup();
    const before = revision();
    const started = Date.now();
    const pending = app.inject(`/v1/services/shop/orders?index=${before}&wait=150ms`);
    await watchers(app, 1);
    k8s.put({ namespace: 'shop', name: 'other' }, [endpoint('k8s', '10.9.9.9')]);
    const res = await pending;
    expect(indexOf(res)).toBe(before);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('times out with the same index when nothing changed', async () => {
    const { app, revision } = setup();
    const before = revision();
    const res = await app.inject(`/v1/services/shop/orders?index=${before}&wait=100ms`);
    expect(res.statusCode).toBe(200);
    expect(indexOf(res)).toBe(before);
    expect(resolverStats(app).watchers).toBe(0);
  });

  it('tells a watcher about a deletion with 404 and the new index, then waits for the return', async () => {
    const { app, k8s, revision } = setup();
    const before = revision();
    const pending = app.inject(`/v1/services/shop/orders?index=${before}&wait=30s`);
    await watchers(app, 1);
    k8s.remove(ORDERS);
    const gone = await pending;
    expect(gone.statusCode).toBe(404);
    expect(gone.json<{ code: string }>().code).toBe('ISTHMUS_NOT_FOUND');
    const deletedAt = indexOf(gone);
    expect(deletedAt).toBeGreaterThan(before);

    // A client with an older index learns of the deletion at once.
    expect(indexOf(await app.inject(`/v1/services/shop/orders?index=${before}&wait=30s`))).toBe(deletedAt);

    const back = app.inject(`/v1/services/shop/orders?index=${deletedAt}&wait=30s`);
    await watchers(app, 1);
    k8s.put(ORDERS, [endpoint('k8s', '10.0.0.7')]);
    const res = await back;
    expect(res.statusCode).toBe(200);
    expect(indexOf(res)).toBeGreaterThan(deletedAt);
  });

  it('waits on a service that does not exist yet until it appears', async () => {
    const { app, k8s } = setup();
    const first = await app.inject('/v1/services/shop/new');
    expect(first.statusCode).toBe(404);
    const pending = app.inject(`/v1/services/shop/new?index=${indexOf(first)}&wait=30s`);
    await watchers(app, 1);
    k8s.put({ namespace: 'shop', name: 'new' }, [endpoint('k8s', '10.0.3.1')]);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(indexOf(res)).toBeGreaterThan(indexOf(first));
  });

  it('releases the watcher when the client hangs up', async () => {
    const { app, revision } = setup();
    const address = await listen(app, { port: 0, host: '127.0.0.1' });
    const req = request(`${address}/v1/services/shop/orders?index=${revision()}&wait=5m`);
    req.on('error', () => undefined);
    req.end();
    await watchers(app, 1);
    req.destroy();
    await watchers(app, 0);
  });

  it('answers open polls on drain and refuses new ones with 503', async () => {
    const { app, revision } = setup();
    const pending = app.inject(`/v1/services/shop/orders?index=${revision()}&wait=5m`);
    await watchers(app, 1);
    drain(app);
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(indexOf(res)).toBe(revision());
    const late = await app.inject(`/v1/services/shop/orders?index=${revision()}&wait=5m`);
    expect(late.statusCode).toBe(503);
    expect(late.json<{ code: string }>().code).toBe('ISTHMUS_SHUTTING_DOWN');
    // Plain lookups keep working until the server closes.
    expect((await app.inject('/v1/services/shop/orders')).statusCode).toBe(200);
  });
});

describe('server-sent events', () => {
  async function open(options: HttpResolverOptions = {}, headers: Record<string, string> = {}, query = '') {
    const ctx = setup(options);
    const address = await listen(ctx.app, { port: 0, host: '127.0.0.1' });
    const reader = await SseReader.open(`${address}/v1/services/shop/orders/events${query}`, headers);
    readers.push(reader);
    return { ...ctx, reader, address };
  }

  it('sends a snapshot, then one event for a burst of changes', async () => {
    // A generous quiet period: the burst below spans ~20 ms and must never straddle it.
    const { reader, k8s, revision } = await open({ events: { quietMs: 200 } });
    expect(reader.response.headers['content-type']).toMatch(/^text\/event-stream/);
    const snapshot = await reader.nextEvent();
    expect(snapshot.event).toBe('snapshot');
    expect(Number(snapshot.id)).toBe(revision());
    expect(entryOf(snapshot.data)).toMatchObject({ ref: ORDERS, revision: revision() });

    // Five changes spread over the quiet period (the gaps shape the burst; they wait for nothing)...
    for (let i = 2; i <= 6; i++) {
      k8s.put(ORDERS, [endpoint('k8s', `10.0.0.${i}`)]);
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
    const afterBurst = revision();
    const update = await reader.nextEvent();
    expect(update.event).toBe('snapshot');
    expect(Number(update.id)).toBe(afterBurst);
    expect(entryOf(update.data).endpoints).toEqual([expect.objectContaining({ address: '10.0.0.6' })]);

    // ...yield one event: the next one is for the next change, with nothing in between.
    k8s.put(ORDERS, [endpoint('k8s', '10.0.0.42')]);
    const next = await reader.nextEvent();
    expect(Number(next.id)).toBe(revision());
    expect(revision()).toBe(afterBurst + 1);
  });

  it('applies the lookup filters to every event', async () => {
    const { reader, k8s } = await open({}, {}, '?healthy=true');
    await reader.nextEvent();
    k8s.put(ORDERS, [endpoint('k8s', '10.0.0.1'), endpoint('k8s', '10.0.0.2', { ready: false })]);
    const update = await reader.nextEvent();
    expect(entryOf(update.data).endpoints.map((e) => e.address)).toEqual(['10.0.0.1']);
  });

  it('sends deleted while the service is absent, and a snapshot when it returns', async () => {
    const { reader, k8s, catalog, revision } = await open();
    await reader.nextEvent();
    k8s.remove(ORDERS);
    const deleted = await reader.nextEvent();
    expect(deleted.event).toBe('deleted');
    expect(Number(deleted.id)).toBe(catalog.revision());
    k8s.put(ORDERS, [endpoint('k8s', '10.0.0.5')]);
    const back = await reader.nextEvent();
    expect(back.event).toBe('snapshot');
    expect(Number(back.id)).toBe(revision());
  });

  it('resumes from Last-Event-ID without repeating the current state', async () => {
    const ctx = setup();
    const address = await listen(ctx.app, { port: 0, host: '127.0.0.1' });
    const url = `${address}/v1/services/shop/orders/events`;
    const current = await SseReader.open(url, { 'last-event-id': String(ctx.revision()) });
    const stale = await SseReader.open(url, { 'last-event-id': String(ctx.revision() - 1) });
    readers.push(current, stale);
    expect((await current.next()).comment).toBe('resumed');
    expect(Number((await stale.nextEvent()).id)).toBe(ctx.revision());
    ctx.k8s.put(ORDERS, [endpoint('k8s', '10.0.0.8')]);
    const update = await current.next();
    expect(update.event).toBe('snapshot');
    expect(Number(update.id)).toBe(ctx.revision());
  });

  it('sends heartbeats while idle', async () => {
    const { reader } = await open({ events: { heartbeatMs: 20 } });
    await reader.nextEvent();
    expect((await reader.next()).comment).toBe('heartbeat');
  });

  it('releases the watcher when the client hangs up', async () => {
    const { reader, app } = await open();
    await reader.nextEvent();
    expect(resolverStats(app).watchers).toBe(1);
    reader.close();
    await watchers(app, 0);
  });

  it('ends every stream on close, so shutdown does not wait for clients', async () => {
    const { reader, app: a } = await open();
    await reader.nextEvent();
    await close(a);
    app = undefined;
    await reader.ended();
    expect(resolverStats(a).watchers).toBe(0);
  });

  it('refuses new streams with 503 once drained', async () => {
    const { app } = setup();
    drain(app);
    const res = await app.inject('/v1/services/shop/orders/events');
    expect(res.statusCode).toBe(503);
    expect(res.json<{ code: string }>().code).toBe('ISTHMUS_SHUTTING_DOWN');
  });
});
