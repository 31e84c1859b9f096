// The resolver's gRPC server (bridge/resolver/grpc-server.ts, on node:http2) as grpc-go sees it:
// grpc-go is the strictest widely deployed client about framing, headers and trailers, and it
// shares no code with grpc-js, which the unit tests and the SDK use. Unary answers and failure
// statuses, bearer auth, and a Watch stream that carries the first state and then a change.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../bridge/catalog/index.ts';
import { GrpcResolver } from '../../bridge/resolver/index.ts';
import { endpoint, FakeSource } from '../../bridge/resolver/testing/fixtures.ts';
import { ResolveRequest, ResolveResponse, WatchRequest, WatchResponse } from '../../proto/gen/isthmus/v1/resolver.ts';
import { buildGrpcProbe, probe } from './grpc-probe.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };
const TOKEN = 'grpc-go-token';
const vm = new FakeSource('vm');
const catalog = new Catalog([vm]);
const resolver = new GrpcResolver({ catalog, auth: { token: TOKEN }, timing: { quietMs: 10, maxDelayMs: 50 } });
let binary = '';
let addr = '';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const resolveReq = (name: string): string => b64(ResolveRequest.encode({ namespace: 'shop', name, filters: undefined }).finish());

beforeAll(async () => {
  binary = await buildGrpcProbe();
  vm.put(ORDERS, [endpoint('vm', '10.0.0.1'), endpoint('vm', '10.0.0.2')]);
  catalog.start();
  addr = `127.0.0.1:${await resolver.listen({ host: '127.0.0.1', port: 0 })}`;
}, 600_000);

afterAll(async () => {
  await resolver.close(500);
  catalog.stop();
});

describe('resolver gRPC server with a grpc-go client', () => {
  it('answers Resolve with the catalog entry', async () => {
    const [line] = await probe(binary, ['-addr', addr, '-method', 'Resolve', '-token', TOKEN, '-request', resolveReq('orders')]);
    expect(line?.code).toBe(status.OK);
    const answer = ResolveResponse.decode(line?.body ?? Buffer.alloc(0));
    expect(answer.service?.endpoints.map((e) => e.address).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('gives grpc-go the status codes and messages, non-ASCII included', async () => {
    const [missing] = await probe(binary, ['-addr', addr, '-method', 'Resolve', '-token', TOKEN, '-request', resolveReq('kötü-%')]);
    expect(missing).toMatchObject({ code: status.NOT_FOUND, message: 'ISTHMUS_NOT_FOUND: service shop/kötü-% is not in the catalog' });
    const [denied] = await probe(binary, ['-addr', addr, '-method', 'Resolve', '-token', 'wrong', '-request', resolveReq('orders')]);
    expect(denied?.code).toBe(status.UNAUTHENTICATED);
    const [unknown] = await probe(binary, ['-addr', addr, '-method', 'Nope', '-token', TOKEN, '-request', resolveReq('orders')]);
    expect(unknown?.code).toBe(status.UNIMPLEMENTED);
  });

  it('streams Watch: the current state, then the state after a change', async () => {
    const request = b64(WatchRequest.encode({ ...ORDERS, filters: undefined, index: 0 }).finish());
    const child = spawn(binary, ['-addr', addr, '-method', 'Watch', '-token', TOKEN, '-messages', '2', '-request', request], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<WatchResponse> => {
      const l = await lines.next();
      const j = JSON.parse(String(l.value)) as { code: number; message: string; body: string };
      expect(j).toMatchObject({ code: status.OK });
      return WatchResponse.decode(Buffer.from(j.body, 'base64'));
    };
    const first = await next();
    expect(first.service?.endpoints).toHaveLength(2);
    vm.put(ORDERS, [endpoint('vm', '10.0.0.3')]);
    const second = await next();
    expect(second.index).toBeGreaterThan(first.index);
    expect(second.service?.endpoints.map((e) => e.address)).toEqual(['10.0.0.3']);
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
  });
});
