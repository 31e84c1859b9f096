import { afterAll, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { applySplit, Weights } from '../sync/index.ts';
import { createHttpResolver } from './http-resolver.ts';
import { endpoint, fakeStatus, FakeSource } from './testing/fixtures.ts';

const TOKEN = 'weights-token';
const vm = new FakeSource('vm');
const k8s = new FakeSource('k8s');
const weights = new Weights();
const catalog = new Catalog([vm, k8s], { shape: (ref, eps) => applySplit(eps, weights.get(ref)) });
weights.onChange((ref) => { catalog.refresh(ref); });
catalog.start();
const orders = { namespace: 'shop', name: 'orders' };
vm.put(orders, [endpoint('vm', '10.0.0.1')]);
k8s.put(orders, [endpoint('k8s', '10.1.0.1')]);
const app = createHttpResolver({ catalog, status: fakeStatus, health: () => ({ ok: true, reasons: [] }), auth: { token: TOKEN }, weights });
const auth = { authorization: `Bearer ${TOKEN}` };

afterAll(async () => { await app.close(); });

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
    expect(put.json()).toEqual({ service: 'shop/orders', split: { vm: 90, k8s: 10 } });
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
});
