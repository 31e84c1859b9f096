import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { applySplit, Weights } from '../sync/index.ts';
import { createHttpResolver } from './http-resolver.ts';
import { endpoint, fakeStatus, FakeSource } from './testing/fixtures.ts';

const TOKEN = 'weights-token';
const vm = new FakeSource('vm');
const k8s = new FakeSource('k8s');
const weights = new Weights({}, { registries: ['vm', 'k8s'] });
const catalog = new Catalog([vm, k8s], { shape: (ref, eps) => applySplit(eps, weights.get(ref)) });
weights.onChange((ref) => { catalog.refresh(ref); });
catalog.start();
const orders = { namespace: 'shop', name: 'orders' };
vm.put(orders, [endpoint('vm', '10.0.0.1')]);
k8s.put(orders, [endpoint('k8s', '10.1.0.1')]);
const deps = { catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), weights };
const app = createHttpResolver({ ...deps, auth: { token: TOKEN } });
// The chart's default before issue 15: no token, so anyone who reaches the port could write.
const open = createHttpResolver(deps);
const auth = { authorization: `Bearer ${TOKEN}` };

afterAll(async () => {
  await app.close();
  await open.close();
});

describe('runtime weights over HTTP', () => {
  it('needs the bearer token; health and metrics routes stay open', async () => {
    const denied = await app.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: 90, k8s: 10 } });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toEqual({ code: 'ISTHMUS_UNAUTHENTICATED', message: 'missing or wrong bearer token' });
    const wrong = await app.inject({ method: 'GET', url: '/v1/weights', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    expect((await app.inject('/livez')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    expect(weights.get(orders)).toBeUndefined();
  });

  it('sets a split that resolver answers and status show at once, and clears it', async () => {
    const before = (await app.inject({ url: '/v1/services/shop/orders', headers: auth })).json<{ revision: number }>().revision;
    const put = await app.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: 90, k8s: 10 }, headers: auth });
    expect(put.json()).toMatchObject({ service: 'shop/orders', split: { vm: 90, k8s: 10 }, stored: 'memory' });
    expect(put.json<{ note: string }>().note).toMatch(/memory only.*no Kubernetes registry is configured/);
    const entry = (await app.inject({ url: '/v1/services/shop/orders', headers: auth })).json<{ revision: number; endpoints: { weight: number }[] }>();
    expect(entry.revision).toBeGreaterThan(before);
    expect(entry.endpoints.map((e) => e.weight).sort((a, b) => a - b)).toEqual([1000, 9000]);
    const status = (await app.inject({ url: '/v1/status', headers: auth })).json<{ weights: unknown }>();
    expect(status.weights).toEqual({ 'shop/orders': { vm: 90, k8s: 10 } });
    await app.inject({ method: 'DELETE', url: '/v1/weights/shop/orders', headers: auth });
    const cleared = (await app.inject({ url: '/v1/services/shop/orders', headers: auth })).json<{ endpoints: { weight: number }[] }>();
    expect(cleared.endpoints.map((e) => e.weight)).toEqual([100, 100]);
  });

  it('refuses a bad split with 400 ISTHMUS_USAGE', async () => {
    const bad = await app.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: -1 }, headers: auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string }>().code).toBe('ISTHMUS_USAGE');
    const notObject = await app.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: [1], headers: auth });
    expect(notObject.statusCode).toBe(400);
  });

  it('refuses a registry id that is not configured with 400, naming it and the configured ones', async () => {
    const res = await app.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: 10, k8: 90 }, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      code: 'ISTHMUS_UNKNOWN_REGISTRY',
      message: 'weights for shop/orders: registry "k8" is not configured; configured registries: k8s, vm',
    });
    expect(weights.get(orders)).toBeUndefined();
    const listed = (await app.inject({ url: '/v1/weights', headers: auth })).json<{ registries: string[] }>();
    expect(listed.registries).toEqual(['k8s', 'vm']);
  });

  it('refuses a service no registry has with 404, so splits stay bounded by the catalog', async () => {
    const res = await app.inject({ method: 'PUT', url: '/v1/weights/shop/nope', payload: { vm: 10, k8s: 90 }, headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json<{ code: string; message: string }>()).toMatchObject({ code: 'ISTHMUS_NOT_FOUND', message: expect.stringMatching(/^service shop\/nope is not in the catalog/) as unknown });
    expect(weights.all()).toEqual({});
  });

  it('still changes and clears a split whose service has gone', async () => {
    const gone = { namespace: 'shop', name: 'gone' };
    weights.set(gone, { vm: 1 });
    const put = await app.inject({ method: 'PUT', url: '/v1/weights/shop/gone', payload: { k8s: 1 }, headers: auth });
    expect(put.statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/v1/weights/shop/gone', headers: auth })).statusCode).toBe(200);
    expect(weights.get(gone)).toBeUndefined();
  });

  it('refuses writes with 403 ISTHMUS_FORBIDDEN on a resolver without a token; reading stays open', async () => {
    const put = await open.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: 90, k8s: 10 } });
    expect(put.statusCode).toBe(403);
    expect(put.json<{ code: string; message: string }>()).toMatchObject({ code: 'ISTHMUS_FORBIDDEN', message: expect.stringContaining('resolver.auth.tokenFile') as unknown });
    const del = await open.inject({ method: 'DELETE', url: '/v1/weights/shop/orders' });
    expect(del.statusCode).toBe(403);
    expect(weights.get(orders)).toBeUndefined();
    expect((await open.inject('/v1/weights')).statusCode).toBe(200);
  });
});

describe('runtime weights with ServiceMigration objects', () => {
  const written: { ref: string; split: unknown }[] = [];
  let available = { ok: true } as { ok: boolean; reason?: string };
  const store = {
    available: () => available,
    setSplit: (ref: { namespace: string; name: string }, split: Record<string, number> | undefined) => {
      written.push({ ref: `${ref.namespace}/${ref.name}`, split });
      // What the follower does when the store's list changes.
      weights.declare(split === undefined ? new Map() : new Map([[`${ref.namespace}/${ref.name}`, split]]));
      return Promise.resolve({ namespace: ref.namespace, name: ref.name });
    },
  };
  const withStore = createHttpResolver({ ...deps, auth: { token: TOKEN }, migrations: { store, report: () => ({}) } });
  afterAll(async () => { await withStore.close(); weights.declare(new Map()); });

  it('writes the object, not memory, and answers where it went', async () => {
    const put = await withStore.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: 20, k8s: 80 }, headers: auth });
    expect(put.json()).toEqual({ service: 'shop/orders', split: { vm: 20, k8s: 80 }, stored: 'ServiceMigration', object: 'shop/orders' });
    expect(written).toEqual([{ ref: 'shop/orders', split: { vm: 20, k8s: 80 } }]);
    expect(weights.origin(orders)).toBe('migration');
    const del = await withStore.inject({ method: 'DELETE', url: '/v1/weights/shop/orders', headers: auth });
    expect(del.json()).toEqual({ service: 'shop/orders', split: null, stored: 'ServiceMigration', object: 'shop/orders' });
    expect(written[1]).toEqual({ ref: 'shop/orders', split: undefined });
  });

  it('checks the split before writing anything', async () => {
    const res = await withStore.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: 10, k8: 90 }, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(written).toHaveLength(2);
  });

  it('falls back to memory when the CRD cannot be used, and says why', async () => {
    available = { ok: false, reason: 'CRD servicemigrations.isthmus.dev is not installed' };
    const put = await withStore.inject({ method: 'PUT', url: '/v1/weights/shop/orders', payload: { vm: 30, k8s: 70 }, headers: auth });
    expect(put.json<{ stored: string; note: string }>()).toMatchObject({ stored: 'memory', note: expect.stringContaining('is not installed') as unknown });
    expect(written).toHaveLength(2);
    expect(weights.origin(orders)).toBe('runtime');
    weights.set(orders, undefined);
  });
});
