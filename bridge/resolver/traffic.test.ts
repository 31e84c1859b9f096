import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { GrpcResolver } from './grpc-resolver.ts';
import { close, createHttpResolver, drain, listen, resolverStats } from './http-resolver.ts';
import { ResolverClientCtor, type ResolverClient } from './testing/grpc-client.ts';
import { endpoint, fakeStatus, FakeSource } from './testing/fixtures.ts';
import { RequestCounts } from './traffic.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };

function catalog(): Catalog {
  const k8s = new FakeSource('k8s');
  k8s.put(ORDERS, [endpoint('k8s', '10.0.0.1')]);
  const c = new Catalog([k8s]);
  c.start();
  return c;
}

describe('RequestCounts', () => {
  it('classes HTTP statuses and gRPC codes as client or server failures', () => {
    const c = new RequestCounts();
    for (const s of [400, 401, 404]) c.failedHttp(s);
    for (const s of [500, 503]) c.failedHttp(s);
    for (const code of [status.INVALID_ARGUMENT, status.NOT_FOUND, status.UNAUTHENTICATED]) c.failedGrpc(code);
    for (const code of [status.INTERNAL, status.UNAVAILABLE, status.RESOURCE_EXHAUSTED]) c.failedGrpc(code);
    expect({ client: c.clientErrors, server: c.serverErrors }).toEqual({ client: 6, server: 5 });
  });
});

describe('HTTP resolver request counts', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    if (app !== undefined) await close(app);
    app = undefined;
  });

  it('counts every request on the wire and classes the failures by where they were answered', async () => {
    app = createHttpResolver({ catalog: catalog(), status: fakeStatus, health: () => ({ ok: true, reasons: [] }), auth: { token: 's3cret' } });
    const url = await listen(app, { host: '127.0.0.1', port: 0 });
    const get = async (path: string, token?: string): Promise<number> => {
      const res = await fetch(`${url}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await get('/v1/services/shop/orders', 's3cret')).toBe(200);
    expect(await get('/v1/services/shop/orders', 's3cret')).toBe(200);
    expect(await get('/livez')).toBe(200);
    expect(await get('/v1/services/shop/orders')).toBe(401); // the auth hook
    expect(await get('/v1/services/shop/missing', 's3cret')).toBe(404); // the error handler
    expect(await get('/no/such/route')).toBe(404); // the not-found handler
    drain(app);
    expect(await get('/v1/services/shop/orders/events', 's3cret')).toBe(503);
    expect({ ...resolverStats(app).requests }).toEqual({ requests: 7, clientErrors: 3, serverErrors: 1 });
  });
});


describe('gRPC resolver request counts', () => {
  let resolver: GrpcResolver | undefined;
  let client: ResolverClient | undefined;
  afterEach(async () => {
    client?.close();
    await resolver?.close(200);
    resolver = undefined;
  });

  it('counts calls and Watch opens, classed by the status they ended with', async () => {
    resolver = new GrpcResolver({ catalog: catalog() });
    const port = await resolver.listen({ host: '127.0.0.1', port: 0 });
    const c = new ResolverClientCtor(`127.0.0.1:${port}`, credentials.createInsecure());
    client = c;
    const resolve = (name: string): Promise<status> => new Promise((done) => {
      c.resolve({ namespace: 'shop', name, filters: undefined }, new Metadata(), {}, (err) => { done(err?.code ?? status.OK); });
    });
    const watchEnd = (name: string): Promise<status> => new Promise((done) => {
      const call = c.watch({ namespace: 'shop', name, filters: undefined, index: 0 }, new Metadata(), {});
      call.on('data', () => undefined);
      call.on('error', (err: ServiceError) => { done(err.code); });
    });
    expect(await resolve('orders')).toBe(status.OK);
    expect(await resolve('missing')).toBe(status.NOT_FOUND);
    expect(await resolve('')).toBe(status.INVALID_ARGUMENT);
    resolver.drain();
    expect(await watchEnd('orders')).toBe(status.UNAVAILABLE);
    expect({ ...resolver.stats().requests }).toEqual({ requests: 4, clientErrors: 2, serverErrors: 1 });
  });
});
