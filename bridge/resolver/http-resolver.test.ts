import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog, type CatalogEntry } from '../catalog/index.ts';
import { createHttpResolver, resolverStats, type HttpResolverDeps } from './http-resolver.ts';
import { endpoint, fakeStatus, FakeSource } from './testing/fixtures.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };
const USERS = { namespace: 'shop', name: 'users' };
const BILLING = { namespace: 'finance', name: 'billing' };

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

function setup(extra: Partial<HttpResolverDeps> = {}) {
  const k8s = new FakeSource('k8s');
  const nacos = new FakeSource('nacos');
  k8s.put(ORDERS, [
    endpoint('k8s', '10.0.0.1', { zone: 'a', node: 'n1' }),
    endpoint('k8s', '10.0.0.2', { zone: 'b', ready: false, serving: true, terminating: true }),
  ]);
  nacos.put(ORDERS, [endpoint('nacos', '192.168.1.5', { zone: 'a', weight: 90, metadata: { version: '1.2' } })], { team: 'orders' });
  nacos.put(USERS, []);
  k8s.put(BILLING, [endpoint('k8s', '10.0.1.1')]);
  const catalog = new Catalog([k8s, nacos]);
  catalog.start();
  const readiness = { ok: true, reasons: [] as string[] };
  app = createHttpResolver({ catalog, status: fakeStatus, health: () => readiness, ...extra });
  return { app, catalog, k8s, nacos, readiness };
}

describe('GET /v1/services', () => {
  it('lists every service with counts, at the catalog revision', async () => {
    const { app, catalog } = setup();
    const res = await app.inject('/v1/services');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-isthmus-index']).toBe(String(catalog.revision()));
    const body = res.json<{ revision: number; services: unknown[] }>();
    expect(body.revision).toBe(catalog.revision());
    expect(body.services).toEqual([
      { namespace: 'finance', name: 'billing', revision: catalog.get(BILLING)?.revision, endpoints: 1, ready: 1, registries: ['k8s'] },
      { namespace: 'shop', name: 'orders', revision: catalog.get(ORDERS)?.revision, endpoints: 3, ready: 2, registries: ['k8s', 'nacos'] },
      { namespace: 'shop', name: 'users', revision: catalog.get(USERS)?.revision, endpoints: 0, ready: 0, registries: ['nacos'] },
    ]);
  });

  it('filters by namespace', async () => {
    const { app } = setup();
    const body = (await app.inject('/v1/services?namespace=finance')).json<{ services: { name: string }[] }>();
    expect(body.services.map((s) => s.name)).toEqual(['billing']);
  });
});

describe('GET /v1/services/:namespace/:name', () => {
  it('answers the whole catalog entry with its index', async () => {
    const { app, catalog } = setup();
    const res = await app.inject('/v1/services/shop/orders');
    expect(res.statusCode).toBe(200);
    const entry = catalog.get(ORDERS);
    expect(res.headers['x-isthmus-index']).toBe(String(entry?.revision));
    const body = res.json<CatalogEntry>();
    expect(body).toEqual(JSON.parse(JSON.stringify(entry)));
    expect(body.registries).toEqual(['k8s', 'nacos']);
    expect(body.metadata).toEqual({ team: 'orders' });
    expect(body.ports).toEqual([{ name: 'http', port: 8080, protocol: 'http' }]);
    expect(body.endpoints.find((e) => e.address === '192.168.1.5')).toEqual({
      address: '192.168.1.5',
      ports: { http: 8080 },
      protocol: 'http',
      ready: true,
      serving: true,
      terminating: false,
      weight: 90,
      zone: 'a',
      metadata: { version: '1.2' },
      origin: { registry: 'nacos', nativeId: 'nacos-192.168.1.5' },
    });
  });

  it('filters endpoints by health, origin and zone, and combines them', async () => {
    const { app } = setup();
    const addresses = async (query: string) =>
      (await app.inject(`/v1/services/shop/orders?${query}`)).json<CatalogEntry>().endpoints.map((e) => e.address);
    expect(await addresses('healthy=true')).toEqual(['10.0.0.1', '192.168.1.5']);
    expect(await addresses('healthy=false')).toHaveLength(3);
    expect(await addresses('origin=nacos')).toEqual(['192.168.1.5']);
    expect(await addresses('zone=b')).toEqual(['10.0.0.2']);
    expect(await addresses('zone=a&origin=k8s&healthy=true')).toEqual(['10.0.0.1']);
    expect(await addresses('zone=nowhere')).toEqual([]);
  });

  it('answers 404 ISTHMUS_NOT_FOUND for an absent service', async () => {
    const { app } = setup();
    const res = await app.inject('/v1/services/shop/nothing');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ code: 'ISTHMUS_NOT_FOUND', message: 'service shop/nothing is not in the catalog' });
    expect(res.headers['x-isthmus-index']).toMatch(/^\d+$/);
  });

  it('refuses bad parameters with 400 ISTHMUS_USAGE and says what is accepted', async () => {
    const { app } = setup();
    for (const [query, fragment] of [
      ['healthy=maybe', 'healthy="maybe" must be true or false'],
      ['index=1&wait=abc', 'wait="abc" is not a duration'],
      ['index=-3', 'index="-3" must be a non-negative integer'],
      ['zone=a&zone=b', 'zone was given 2 times'],
      ['origin=', 'origin must not be empty'],
    ] as const) {
      const res = await app.inject(`/v1/services/shop/orders?${query}`);
      expect(res.statusCode, query).toBe(400);
      const body = res.json<{ code: string; message: string }>();
      expect(body.code).toBe('ISTHMUS_USAGE');
      expect(body.message).toContain(fragment);
    }
  });

  it('accepts service names longer than fastify’s default parameter limit', async () => {
    const { app, k8s } = setup();
    const ref = { namespace: 'dubbo', name: `org.example.${'very.long.package.'.repeat(8)}OrderService:1.0.0:grp` };
    k8s.put(ref, [endpoint('k8s', '10.0.2.1')]);
    const res = await app.inject(`/v1/services/dubbo/${encodeURIComponent(ref.name)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json<CatalogEntry>().ref).toEqual(ref);
  });
});

describe('errors', () => {
  it('answers unknown paths as JSON 404', async () => {
    const { app } = setup();
    const res = await app.inject('/v2/nothing');
    expect(res.statusCode).toBe(404);
    expect(res.json<{ code: string }>().code).toBe('ISTHMUS_NOT_FOUND');
  });

  it('answers a failing dependency as 500 ISTHMUS_INTERNAL', async () => {
    const { app } = setup({
      status: {
        ...fakeStatus,
        summary: () => {
          throw new Error('boom');
        },
      },
    });
    const res = await app.inject('/v1/status');
    expect(res.statusCode).toBe(500);
    const body = res.json<{ code: string; message: string }>();
    expect(body.code).toBe('ISTHMUS_INTERNAL');
    expect(body.message).not.toContain('boom');
  });
});

describe('logging', () => {
  it('logs failures (not every request) through the given pino logger', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const failing = { ...fakeStatus, summary: () => { throw new Error('boom'); } };
    const { app } = setup({ logger: pino(sink), status: failing });
    await app.inject('/v1/services');
    await app.inject('/v1/status');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ component: 'resolver', msg: 'resolver request failed', err: { message: 'boom' } });
  });
});

describe('status, probes and metrics', () => {
  it('serves the status summary and a service explanation', async () => {
    const { app, catalog } = setup();
    expect((await app.inject('/v1/status')).json()).toEqual(fakeStatus.summary());
    const res = await app.inject('/v1/status/shop/orders');
    const service: unknown = JSON.parse(JSON.stringify(catalog.get(ORDERS)));
    expect(res.json()).toEqual({ service, explain: fakeStatus.explain(ORDERS) });
    const absent = await app.inject('/v1/status/shop/gone');
    expect(absent.statusCode).toBe(200);
    expect(absent.json<{ service: unknown }>().service).toBeNull();
  });

  it('reports liveness always and readiness from the health callback', async () => {
    const { app, readiness } = setup();
    expect((await app.inject('/livez')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).json()).toEqual({ ok: true, reasons: [] });
    readiness.ok = false;
    readiness.reasons.push('source nacos has not synced');
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ ok: false, reasons: ['source nacos has not synced'] });
  });

  it('serves metrics text when configured, 404 otherwise', async () => {
    const { app: bare } = setup();
    expect((await bare.inject('/metrics')).statusCode).toBe(404);
    await bare.close();
    const { app: withMetrics } = setup({ metrics: { contentType: 'text/plain; version=0.0.4', render: () => Promise.resolve('isthmus_up 1\n') } });
    const res = await withMetrics.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4');
    expect(res.body).toBe('isthmus_up 1\n');
  });
});

describe('bearer-token auth', () => {
  const TOKEN = 's3cret-token';

  it('refuses /v1 without the right token and leaves probes and metrics open', async () => {
    const { app } = setup({ auth: { token: TOKEN }, metrics: { contentType: 'text/plain', render: () => Promise.resolve('') } });
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer']) {
      const res = await app.inject({ url: '/v1/services/shop/orders', headers: authorization === undefined ? {} : { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json()).toEqual({ code: 'ISTHMUS_UNAUTHENTICATED', message: 'missing or wrong bearer token' });
      expect(res.headers['www-authenticate']).toContain('Bearer');
    }
    expect((await app.inject('/v1/status')).statusCode).toBe(401);
    expect((await app.inject('/v1/services/shop/orders/events')).statusCode).toBe(401);
    for (const url of ['/livez', '/readyz', '/metrics']) expect((await app.inject(url)).statusCode, url).toBe(200);
  });

  it('lets the right token through, whatever the scheme’s case', async () => {
    const { app } = setup({ auth: { token: TOKEN } });
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const res = await app.inject({ url: '/v1/services', headers: { authorization } });
      expect(res.statusCode).toBe(200);
    }
  });

  it('refuses to start with an empty token', () => {
    expect(() => setup({ auth: { token: ' ' } })).toThrow(/empty/);
  });
});

describe('response cache', () => {
  it('serves identical bytes from the cache until the entry changes', async () => {
    const { app, k8s, catalog } = setup();
    const first = await app.inject('/v1/services/shop/orders?healthy=true');
    const second = await app.inject('/v1/services/shop/orders?healthy=true');
    expect(second.body).toBe(first.body);
    expect(resolverStats(app).cache).toMatchObject({ hits: 1, misses: 1 });

    k8s.put(ORDERS, [endpoint('k8s', '10.0.0.9')]);
    const third = await app.inject('/v1/services/shop/orders?healthy=true');
    expect(third.body).not.toBe(first.body);
    expect(third.headers['x-isthmus-index']).toBe(String(catalog.get(ORDERS)?.revision));
    expect(third.json<CatalogEntry>().endpoints.map((e) => e.address)).toEqual(['10.0.0.9', '192.168.1.5']);
    expect(resolverStats(app).cache).toMatchObject({ hits: 1, misses: 2 });
  });

  it('keeps filter sets apart', async () => {
    const { app } = setup();
    const all = await app.inject('/v1/services/shop/orders');
    const healthy = await app.inject('/v1/services/shop/orders?healthy=true');
    expect(healthy.body).not.toBe(all.body);
  });

  it('keys the list by catalog revision, so any change refreshes it', async () => {
    const { app, nacos } = setup();
    const first = await app.inject('/v1/services');
    expect((await app.inject('/v1/services')).body).toBe(first.body);
    nacos.remove(USERS);
    const after = await app.inject('/v1/services');
    expect(after.json<{ services: { name: string }[] }>().services.map((s) => s.name)).toEqual(['billing', 'orders']);
  });
});
