import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { consoleSession } from './console-session.ts';
import { close, createHttpResolver, listen, resolverStats } from './http-resolver.ts';
import { endpoint, fakeStatus, FakeSource } from './testing/fixtures.ts';

// The cached-lookup fast path (fast-lookup.ts) on a listening resolver: app.inject() goes around
// the server, so these use real sockets. A fast answer must be the answer fastify gives.

const ORDERS = { namespace: 'shop', name: 'orders' };
const TOKEN = 'fast-token';
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const { date: _date, ...rest } = res.headers;
        resolve({ status: res.statusCode ?? 0, headers: rest, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function resolver() {
  const vm = new FakeSource('vm');
  vm.put(ORDERS, [endpoint('vm', '10.0.0.1'), endpoint('vm', '10.0.0.2', { ready: false })]);
  vm.put({ namespace: 'shop', name: 'a b:1.0' }, [endpoint('vm', '10.0.0.9')]);
  vm.put({ namespace: 'shop', name: 'x/y' }, [endpoint('vm', '10.0.0.8')]);
  const catalog = new Catalog([vm]);
  catalog.start();
  const app = createHttpResolver({ catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), auth: { token: TOKEN } });
  const base = await listen(app, { host: '127.0.0.1', port: 0 });
  closers.push(() => close(app));
  return { vm, app, base };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('cached lookups answered before fastify', () => {
  it('gives a cache hit the same status, headers and body as the rendered answer, and follows changes', async () => {
    const { vm, app, base } = await resolver();
    const rendered = await get(base, '/v1/services/shop/orders', auth);
    const before = resolverStats(app).cache;
    const cached = await get(base, '/v1/services/shop/orders', auth);
    expect(before.peeked).toBe(0);
    expect(resolverStats(app).cache).toMatchObject({ hits: before.hits + 1, misses: before.misses, peeked: 1 });
    expect(cached).toEqual(rendered);
    expect(rendered.status).toBe(200);
    expect(Object.keys(rendered.headers).sort()).toEqual(['connection', 'content-length', 'content-type', 'keep-alive', 'x-isthmus-index']);
    // The server keeps fastify's own defaults (it makes it through serverFactory now).
    expect(app.server.keepAliveTimeout).toBe(72_000);

    vm.put(ORDERS, [endpoint('vm', '10.0.0.3')]);
    const moved = await get(base, '/v1/services/shop/orders', auth);
    expect(Number(moved.headers['x-isthmus-index'])).toBeGreaterThan(Number(rendered.headers['x-isthmus-index']));
    expect((JSON.parse(moved.body) as { endpoints: { address: string }[] }).endpoints.map((e) => e.address)).toEqual(['10.0.0.3']);
  });

  it('answers escaped names and the SDK\'s ?healthy=true as fastify does', async () => {
    const { app, base } = await resolver();
    for (const path of ['/v1/services/shop/a%20b%3A1.0', '/v1/services/shop/orders?healthy=true', '/v1/services/shop/x%2Fy']) {
      const rendered = await get(base, path, auth);
      const cached = await get(base, path, auth);
      expect(cached, path).toEqual(rendered);
      expect(rendered.status, path).toBe(200);
    }
    expect(resolverStats(app).cache.peeked).toBe(3);
    const healthy = await get(base, '/v1/services/shop/orders?healthy=true', auth);
    expect((JSON.parse(healthy.body) as { endpoints: unknown[] }).endpoints).toHaveLength(1);
    expect((JSON.parse((await get(base, '/v1/services/shop/x%2Fy', auth)).body) as { ref: { name: string } }).ref.name).toBe('x/y');
  });

  it('leaves a request that races the close to fastify, which sheds it with 503', async () => {
    const { app, base } = await resolver();
    await get(base, '/v1/services/shop/orders', auth);
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    // Half a request: the connection is busy, so the close does not reap it as idle.
    socket.write(`GET /v1/services/shop/orders HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n`);
    // A long-poll sent after it: once it waits, the half request has been read; once the close
    // answers it (preClose drains waiters), the resolver is closing.
    const index = Number((await get(base, '/v1/services/shop/orders', auth)).headers['x-isthmus-index']);
    const poll = get(base, `/v1/services/shop/orders?index=${index}&wait=30s`, auth);
    await vi.waitFor(() => { expect(resolverStats(app).watchers).toBe(1); });
    const closed = close(app);
    closers.length = 0;
    await poll;
    let answer = '';
    socket.on('data', (d: Buffer) => { answer += d.toString('utf8'); });
    socket.end('\r\n');
    await once(socket, 'close');
    await closed;
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable');
    // The lookup before the long-poll was answered early; the one racing the close was not.
    expect(resolverStats(app).cache.peeked).toBe(1);
  });

  it('leaves refusals, other filters, bad escapes and other paths to fastify', async () => {
    const { app, base } = await resolver();
    await get(base, '/v1/services/shop/orders', auth);
    expect((await get(base, '/v1/services/shop/orders')).status).toBe(401);
    expect((await get(base, '/v1/services/shop/orders', { authorization: 'Bearer wrong' })).status).toBe(401);
    const cookie = consoleSession(TOKEN, { secure: false }).setCookie().split(';')[0] ?? '';
    expect((await get(base, '/v1/services/shop/orders', { cookie })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const zoned = await get(base, '/v1/services/shop/orders?healthy=true&zone=b', auth);
      expect((JSON.parse(zoned.body) as { endpoints: unknown[] }).endpoints).toHaveLength(0);
    }
    expect((await get(base, '/v1/services/shop/or%zzders', auth)).status).toBe(400);
    expect((await get(base, '/v1/services/shop/missing', auth)).status).toBe(404);
    expect((await get(base, '/v1/services/shop/orders/', auth)).status).toBe(404);
    // Only the cookie read was answered early; the refusals, the zone filter and the rest were not.
    expect(resolverStats(app).cache.peeked).toBe(1);
  });
});
