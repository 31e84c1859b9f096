import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../catalog/index.ts';
import { ResolveRequest, ResolveResponse, type WatchResponse } from '../../proto/gen/isthmus/v1/resolver.ts';
import { GrpcResolver } from './grpc-resolver.ts';
import { GrpcServer, type GrpcMethod } from './grpc-server.ts';
import { encodeGrpcMessage, frame, onlyMessage, MAX_REQUEST_BYTES } from './grpc-wire.ts';
import { ResolverClientCtor, type ResolverClient } from './testing/grpc-client.ts';
import { endpoint, FakeSource } from './testing/fixtures.ts';

// The resolver's own gRPC server (grpc-server.ts): what grpc-js clients see, and the protocol
// edges a well-behaved client never reaches, sent as raw HTTP/2.

const ORDERS = { namespace: 'shop', name: 'orders' };
const RESOLVE = '/isthmus.v1.ResolverService/Resolve';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function resolver(): Promise<{ port: number; r: GrpcResolver; errors: unknown[] }> {
  const vm = new FakeSource('vm');
  vm.put(ORDERS, [endpoint('vm', '10.0.0.1')]);
  const catalog = new Catalog([vm]);
  catalog.start();
  const errors: unknown[] = [];
  const r = new GrpcResolver({ catalog, onError: (e) => errors.push(e) });
  const port = await r.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => r.close(200));
  return { port, r, errors };
}

function client(port: number): ResolverClient {
  const c = new ResolverClientCtor(`127.0.0.1:${port}`, credentials.createInsecure());
  cleanups.push(() => { c.close(); });
  return c;
}

function session(port: number): ClientHttp2Session {
  const s = connect(`http://127.0.0.1:${port}`).on('error', () => undefined);
  cleanups.push(() => { s.destroy(); });
  return s;
}

interface RawAnswer {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One raw HTTP/2 request; whatever came back. */
function raw(s: ClientHttp2Session, headers: Record<string, string>, body: Buffer): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const req = s.request({ ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let got: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => { got = h; });
    req.on('trailers', (t: IncomingHttpHeaders) => { trailers = t; });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('close', () => { resolve({ headers: got, trailers, body: Buffer.concat(chunks) }); });
    req.end(body);
  });
}

const statusOf = (a: RawAnswer): string | undefined => (a.trailers['grpc-status'] ?? a.headers['grpc-status']) as string | undefined;

describe('gRPC wire helpers', () => {
  it('frames a message and takes exactly one back', () => {
    const f = frame(Buffer.from('abc'));
    expect([...f]).toEqual([0, 0, 0, 0, 3, 97, 98, 99]);
    expect(onlyMessage(f)).toEqual(Buffer.from('abc'));
    expect(onlyMessage(Buffer.concat([f, f]))).toMatchObject({ code: status.UNIMPLEMENTED });
    expect(onlyMessage(f.subarray(0, 6))).toMatchObject({ code: status.INTERNAL });
    expect(onlyMessage(Buffer.alloc(0))).toMatchObject({ code: status.INTERNAL });
  });

  it('percent-encodes status messages outside printable ASCII, and % itself', () => {
    expect(encodeGrpcMessage('plain text: ok')).toBe('plain text: ok');
    expect(encodeGrpcMessage('50% café\n')).toBe('50%25 caf%C3%A9%0A');
  });
});

describe('gRPC server, as grpc-js clients see it', () => {
  it('answers Resolve, and NOT_FOUND with a non-ASCII name round-tripped intact', async () => {
    const { port } = await resolver();
    const c = client(port);
    const call = (name: string): Promise<{ err: ServiceError | null; res?: ResolveResponse | undefined }> =>
      new Promise((resolve) => { c.resolve({ namespace: 'shop', name, filters: undefined }, new Metadata(), {}, (err, res) => { resolve({ err, res }); }); });
    const ok = await call('orders');
    expect(ok.err).toBeNull();
    expect(ok.res?.service?.endpoints.map((e) => e.address)).toEqual(['10.0.0.1']);
    const missing = await call('café-%41');
    expect(missing.err?.code).toBe(status.NOT_FOUND);
    expect(missing.err?.details).toBe('ISTHMUS_NOT_FOUND: service shop/café-%41 is not in the catalog');
  });

  it('ends open Watch streams with OK on close and refuses new calls afterwards', async () => {
    const { port, r } = await resolver();
    const c = client(port);
    const call = c.watch({ ...ORDERS, filters: undefined, index: 0 }, new Metadata(), {});
    const first = await new Promise<WatchResponse>((resolve) => call.once('data', resolve));
    expect(first.service?.name).toBe('orders');
    const ended = new Promise<number>((resolve) => call.on('status', (s: { code: number }) => { resolve(s.code); }));
    call.on('error', () => undefined);
    await r.close(1_000);
    expect(await ended).toBe(status.OK);
  });
});

describe('gRPC server, protocol edges (raw HTTP/2)', () => {
  it('answers an unknown method with UNIMPLEMENTED and a non-gRPC request with HTTP 415', async () => {
    const { port } = await resolver();
    const s = session(port);
    const unknown = await raw(s, { ':path': '/isthmus.v1.ResolverService/Nope' }, frame(Buffer.alloc(0)));
    expect(statusOf(unknown)).toBe(String(status.UNIMPLEMENTED));
    const plain = await raw(s, { ':path': RESOLVE, 'content-type': 'application/json' }, Buffer.from('{}'));
    expect(plain.headers[':status']).toBe(415);
  });

  it('refuses compressed, undecodable, doubled and oversized requests, and keeps serving', async () => {
    const { port } = await resolver();
    const s = session(port);
    const good = frame(ResolveRequest.encode({ ...ORDERS, filters: undefined }).finish());
    const compressed = Buffer.from(good);
    compressed[0] = 1;
    expect(statusOf(await raw(s, { ':path': RESOLVE, 'grpc-encoding': 'gzip' }, compressed))).toBe(String(status.UNIMPLEMENTED));
    expect(statusOf(await raw(s, { ':path': RESOLVE }, frame(Buffer.from([0xff, 0xff, 0xff]))))).toBe(String(status.INTERNAL));
    expect(statusOf(await raw(s, { ':path': RESOLVE }, Buffer.concat([good, good])))).toBe(String(status.UNIMPLEMENTED));
    const huge = Buffer.alloc(5 + MAX_REQUEST_BYTES + 1);
    huge.writeUInt32BE(MAX_REQUEST_BYTES + 1, 1);
    const refused = await raw(s, { ':path': RESOLVE }, huge);
    expect(statusOf(refused)).toBe(String(status.RESOURCE_EXHAUSTED));
    // A small first message followed by more than the cap of anything else is cut off too.
    const trailing = Buffer.concat([good, Buffer.alloc(MAX_REQUEST_BYTES)]);
    expect(statusOf(await raw(s, { ':path': RESOLVE }, trailing))).toBe(String(status.RESOURCE_EXHAUSTED));
    const ok = await raw(s, { ':path': RESOLVE }, good);
    expect(statusOf(ok)).toBe('0');
    expect(ResolveResponse.decode(onlyMessage(ok.body) as Buffer).service?.name).toBe('orders');
  });

  it('answers INTERNAL without the cause when a handler throws, and reports the cause', async () => {
    const errors: unknown[] = [];
    const methods = new Map<string, GrpcMethod>([[RESOLVE, { kind: 'unary', handle: () => { throw new Error('secret detail'); } }]]);
    const server = new GrpcServer({ methods, onError: (e) => errors.push(e) });
    const port = await server.listen('127.0.0.1', 0);
    cleanups.push(() => server.tryShutdown());
    const answer = await raw(session(port), { ':path': RESOLVE }, frame(Buffer.alloc(0)));
    expect(statusOf(answer)).toBe(String(status.INTERNAL));
    expect(decodeURIComponent(String(answer.headers['grpc-message']))).not.toContain('secret');
    expect(errors).toHaveLength(1);
  });
});
