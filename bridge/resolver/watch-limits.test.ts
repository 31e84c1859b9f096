import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { close, createHttpResolver, listen, resolverStats } from './http-resolver.ts';
import { endpoint, fakeStatus, FakeSource, SseReader } from './testing/fixtures.ts';

// HTTP side of the watch bound (issue 15, finding 8): event streams and waiting long-polls count
// together against maxWatchStreams; the gRPC side is in grpc-limits.test.ts.

const ORDERS = { namespace: 'shop', name: 'orders' };
let app: FastifyInstance | undefined;
const readers: SseReader[] = [];

afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  if (app !== undefined) await close(app);
  app = undefined;
});

async function setup(maxWatchStreams: number) {
  const k8s = new FakeSource('k8s');
  k8s.put(ORDERS, [endpoint('k8s', '10.0.0.1')]);
  const catalog = new Catalog([k8s]);
  catalog.start();
  const a = createHttpResolver({ catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }) }, { limits: { maxWatchStreams } });
  app = a;
  const address = await listen(a, { port: 0, host: '127.0.0.1' });
  const index = catalog.get(ORDERS)?.revision ?? 0;
  return { app: a, address, index, k8s };
}

async function stream(address: string): Promise<SseReader> {
  const reader = await SseReader.open(`${address}/v1/services/shop/orders/events`);
  readers.push(reader);
  return reader;
}

describe('maxWatchStreams on HTTP', () => {
  it('refuses the stream or long-poll beyond the bound with 503 ISTHMUS_TOO_MANY_WATCHES and Retry-After', async () => {
    const { app: a, address, index } = await setup(2);
    const first = await stream(address);
    await first.nextEvent();
    const poll = a.inject(`/v1/services/shop/orders?index=${index}&wait=5m`);
    await vi.waitFor(() => { expect(resolverStats(a).watchers).toBe(2); });

    const refused = await a.inject('/v1/services/shop/orders/events');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json()).toEqual({
      code: 'ISTHMUS_TOO_MANY_WATCHES',
      message: 'this resolver serves at most 2 watches (event streams and waiting long-polls); retry later or watch another replica',
    });
    const refusedPoll = await a.inject(`/v1/services/shop/orders?index=${index}&wait=5m`);
    expect(refusedPoll.statusCode).toBe(503);
    expect(refusedPoll.json<{ code: string }>().code).toBe('ISTHMUS_TOO_MANY_WATCHES');
    // Lookups, and polls that answer at once, do not hold a watcher and are never refused.
    expect((await a.inject('/v1/services/shop/orders')).statusCode).toBe(200);
    expect((await a.inject(`/v1/services/shop/orders?index=${index - 1}`)).statusCode).toBe(200);

    first.close();
    await vi.waitFor(() => { expect(resolverStats(a).watchers).toBe(1); });
    const again = await stream(address);
    expect((await again.nextEvent()).event).toBe('snapshot');
    await close(a);
    app = undefined;
    expect((await poll).statusCode).toBe(200);
  });
});
