// Minimal clients for the resolver's load generator. Node's http.request and grpc-js's client
// cost several times more CPU per call than the resolver spends answering it, so on two cores
// they, not the resolver, set the measured rate. These do only what a load generator must: keep
// connections open, send prebuilt requests, read every response fully and check its status.
import { connect as h2connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { connect } from 'node:net';

/**
 * One keep-alive HTTP/1.1 connection, one request in flight (no pipelining: each caller waits
 * for its answer, as a real client does). Resolves with the body of a 200, rejects otherwise.
 */
export async function httpConnection(url: URL): Promise<{ get(): Promise<Buffer>; close(): void }> {
  const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: application/json\r\n\r\n`, 'latin1');
  let pending: { resolve: (body: Buffer) => void; reject: (err: Error) => void } | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  let bodyStart = 0;
  let total = -1;
  let status = 0;

  const settle = (err: Error | undefined, body?: Buffer): void => {
    const p = pending;
    pending = undefined;
    if (p === undefined) return;
    if (err !== undefined) p.reject(err);
    else p.resolve(body ?? Buffer.alloc(0));
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    if (total < 0) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.toString('latin1', 0, end);
      status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (length === undefined) {
        settle(new Error('response without content-length'));
        socket.destroy();
        return;
      }
      bodyStart = end + 4;
      total = bodyStart + Number(length);
    }
    if (buffered.length < total) return;
    const body = buffered.subarray(bodyStart, total);
    buffered = buffered.subarray(total);
    total = -1;
    settle(status === 200 ? undefined : new Error(`HTTP ${status}`), body);
  });
  socket.on('error', (err) => { settle(err); });
  socket.on('close', () => { settle(new Error('connection closed')); });
  return {
    get: () =>
      new Promise((resolve, reject) => {
        pending = { resolve, reject };
        socket.write(request);
      }),
    close: () => { socket.destroy(); },
  };
}

/** A gRPC message on the wire: uncompressed flag, 4-byte big-endian length, bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Counts whole gRPC messages in a stream's DATA, however the chunks split them. */
export class GrpcMessageCounter {
  #buffered: Buffer = Buffer.alloc(0);

  /** Messages completed by `chunk`. */
  push(chunk: Buffer): number {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    let n = 0;
    while (this.#buffered.length >= 5) {
      const end = 5 + this.#buffered.readUInt32BE(1);
      if (this.#buffered.length < end) break;
      this.#buffered = this.#buffered.subarray(end);
      n++;
    }
    return n;
  }
}

export function h2Session(target: string): ClientHttp2Session {
  return h2connect(`http://${target}`);
}

const headersByPath = new Map<string, Record<string, string>>();

/** Built once per method: node's http2 reads, never keeps, the object. */
function grpcHeaders(path: string): Record<string, string> {
  let h = headersByPath.get(path);
  if (h === undefined) {
    h = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
    headersByPath.set(path, h);
  }
  return h;
}

/** A unary call; resolves with the framed response when grpc-status is 0. */
export function h2Unary(session: ClientHttp2Session, path: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stream = session.request(grpcHeaders(path));
    const chunks: Buffer[] = [];
    let code: unknown;
    // A failed call may come as trailers-only: grpc-status in the response headers.
    stream.on('response', (h: IncomingHttpHeaders) => { code = h['grpc-status'] ?? code; });
    stream.on('trailers', (t: IncomingHttpHeaders) => { code = t['grpc-status']; });
    stream.on('data', (c: Buffer) => { chunks.push(c); });
    stream.on('end', () => {
      if (code === '0') resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      else reject(new Error(`grpc-status ${String(code)}`));
    });
    stream.on('error', reject);
    stream.end(body);
  });
}

/** A server-streaming call; `onMessages(n)` for each chunk that completes n messages. */
export function h2ServerStream(session: ClientHttp2Session, path: string, body: Buffer, onMessages: (n: number) => void): ClientHttp2Stream {
  const stream = session.request(grpcHeaders(path));
  const counter = new GrpcMessageCounter();
  stream.on('data', (c: Buffer) => {
    const n = counter.push(c);
    if (n > 0) onMessages(n);
  });
  stream.end(body);
  return stream;
}
