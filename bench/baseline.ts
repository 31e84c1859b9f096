// The floor under the resolver's figures: a bare node server that answers every request with the
// bytes the resolver answered, measured by the same load in the same run. What the resolver
// reaches relative to it is what our code costs; what the bare server reaches is what Node's
// HTTP stack and this machine allow, and no change to the resolver can beat it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { h2Session, h2Unary, grpcFrame } from './lean-clients.ts';
import { ResolveRequest } from '../proto/gen/isthmus/v1/resolver.ts';

const HTTP_PATH = '/v1/services/bench/svc-0';
const RESOLVE = '/isthmus.v1.ResolverService/Resolve';

/** The resolver's HTTP answer for the service the load asks for. */
export async function answerOverHttp(base: string): Promise<{ body: Buffer; contentType: string }> {
  const res = await fetch(new URL(HTTP_PATH, base), { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`resolver answered HTTP ${res.status} for ${HTTP_PATH}`);
  return { body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'application/json' };
}

/** The resolver's framed gRPC Resolve answer for that service. */
export async function answerOverGrpc(target: string): Promise<Buffer> {
  const session = h2Session(target);
  try {
    return await h2Unary(session, RESOLVE, grpcFrame(ResolveRequest.encode({ namespace: 'bench', name: 'svc-0', filters: undefined }).finish()));
  } finally {
    session.close();
  }
}

/** Runs `fn` against a bare node:http server that answers every request with `answer`. */
export async function withBareHttp<T>(answer: { body: Buffer; contentType: string }, fn: (base: string) => Promise<T>): Promise<T> {
  const headers = { 'content-type': answer.contentType, 'content-length': String(answer.body.length) };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.writeHead(200, headers);
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }
}

/** Runs `fn` against a bare node:http2 server that answers every call with `frame` and status 0. */
export async function withBareGrpc<T>(frame: Buffer, fn: (target: string) => Promise<T>): Promise<T> {
  const server = createH2Server();
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.resume();
    stream.once('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': '0' }); });
      stream.end(frame);
    });
  });
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (s) => { sessions.add(s); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await fn(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }
}
