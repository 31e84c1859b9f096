import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { listenLoopback, type LoopbackHttp } from '../shared/testing/loopback-http.ts';
import { ConsulClient } from './client.ts';

// A stand-in HTTP server on loopback: enough to check headers, parameters and error mapping.
describe('ConsulClient', () => {
  let server: LoopbackHttp;
  let base = '';
  const seen: IncomingMessage[] = [];
  beforeAll(async () => {
    server = await listenLoopback((req, res) => {
      seen.push(req);
      const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? '200');
      res.writeHead(status, { 'x-consul-index': '42', 'content-type': 'application/json' });
      const denied = 'Permission denied: token with AccessorID abc lacks permission';
      res.end(status === 200 ? '{"ok":true}' : status === 409 && !(req.url ?? '').startsWith('/v1/txn') ? 'index is stale' : denied);
    });
    base = server.base;
  });
  afterAll(() => server.close());

  it('sends the token as a header only, passes dc/ns/partition, and reads the index', async () => {
    const c = new ConsulClient({ address: `${base}/`, token: 's3cret', datacenter: 'dc2', namespace: 'team', partition: 'p1' });
    const res = await c.read<{ ok: boolean }>('/v1/catalog/services', { index: 7, waitSeconds: 5 });
    expect(res).toEqual({ body: { ok: true }, index: 42 });
    const req = seen.at(-1)!;
    expect(req.headers['x-consul-token']).toBe('s3cret');
    expect(req.url).not.toContain('s3cret');
    expect(new URL(req.url!, base).searchParams.toString()).toBe('dc=dc2&ns=team&partition=p1&index=7&wait=5s');
    await c.txn([]);
    expect([c.reads, c.writes]).toEqual([1, 1]);
  });

  it('maps failures to stable codes', async () => {
    const c = new ConsulClient({ address: base, token: 's3cret', registry: 'consul-dc1' });
    const code = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
        return 'none';
      } catch (err) {
        expect(err).toBeInstanceOf(BridgeError);
        expect((err as Error).message).not.toContain('s3cret');
        return (err as BridgeError).code;
      }
    };
    expect(await code(c.read('/v1/x', { params: { status: '403' } }))).toBe('ISTHMUS_REGISTRY_AUTH');
    expect(await code(c.read('/v1/x', { params: { status: '401' } }))).toBe('ISTHMUS_REGISTRY_AUTH');
    expect(await code(c.read('/v1/x', { params: { status: '500' } }))).toBe('ISTHMUS_REGISTRY_UNREACHABLE');
    expect(await code(c.put('/v1/x', {}, { status: '400' }))).toBe('ISTHMUS_REGISTRY_REJECTED');
    expect(await code(c.put('/v1/x', {}, { status: '409' }))).toBe('ISTHMUS_REGISTRY_CONFLICT');
    // A rolled-back transaction whose operations were denied by ACLs.
    expect(await code(c.put('/v1/txn', [], { status: '409' }))).toBe('ISTHMUS_REGISTRY_AUTH');
    const dead = new ConsulClient({ address: 'http://127.0.0.1:1', requestTimeoutMs: 2000 });
    expect(await code(dead.read('/v1/catalog/services'))).toBe('ISTHMUS_REGISTRY_UNREACHABLE');
  });
});
