import {
  constants,
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { status } from '@grpc/grpc-js';
import { declaredLength, encodeGrpcMessage, failure, isFailure, isGrpcContentType, MAX_REQUEST_BYTES, onlyMessage, tooLarge, type GrpcFailure } from './grpc-wire.ts';
import type { TlsFiles } from './tls.ts';

/** A server-streaming call once admitted: its response headers are sent. */
export interface StreamCall {
  /** Sends one framed message; `sent` runs once HTTP/2 flow control has let all of it out. */
  write(framed: Buffer, sent: () => void): void;
  /** Ends the call with OK (after whatever is still queued). */
  end(): void;
  /** Resets the stream with ENHANCE_YOUR_CALM, dropping what is queued (the slow-consumer policy). */
  reset(): void;
  /** Runs once when the stream is gone, however it went (end, reset, cancel, lost connection). */
  onClose(listener: () => void): void;
}

export type GrpcMethod =
  | { readonly kind: 'unary'; handle(request: Buffer, headers: IncomingHttpHeaders): Buffer | GrpcFailure }
  | { readonly kind: 'stream'; handle(request: Buffer, headers: IncomingHttpHeaders, call: () => StreamCall): GrpcFailure | undefined };

export interface GrpcServerOptions {
  /** By path, `/package.Service/Method`. */
  readonly methods: ReadonlyMap<string, GrpcMethod>;
  readonly tls?: TlsFiles;
  /** A handler threw; the call answers INTERNAL without the cause. */
  readonly onError: (err: unknown) => void;
}

const INTERNAL = 'ISTHMUS_INTERNAL: internal error; the resolver log has the cause';

function okHeaders(): Record<string, string | number> {
  return { ':status': 200, 'content-type': 'application/grpc' };
}

/** A call that ends before any message: the status rides in the only HEADERS frame. */
function trailersOnly(stream: ServerHttp2Stream, f: GrpcFailure): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ...okHeaders(), 'grpc-status': f.code, 'grpc-message': encodeGrpcMessage(f.details) }, { endStream: true });
  // Still sending (an oversized message, say): tell the client to stop rather than read it all.
  if (!stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
}

/** The whole request body, or the failure that cut it short; at most one message's worth is kept. */
function readBody(stream: ServerHttp2Stream, done: (body: Buffer | GrpcFailure) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let checked = false;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    let length = size - 5;
    if (!checked && size >= 5) {
      checked = true;
      length = Math.max(length, declaredLength(chunks.length === 1 ? chunk : Buffer.concat(chunks)) ?? 0);
    }
    // The first message's declared length, or whatever has arrived (more messages, say): past
    // the cap either way, and nothing more is kept.
    if (length > MAX_REQUEST_BYTES) {
      stream.off('data', onData);
      stream.off('end', onEnd);
      chunks.length = 0;
      done(tooLarge(length));
    }
  };
  const onEnd = (): void => {
    done(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks));
  };
  stream.on('data', onData);
  stream.once('end', onEnd);
}

/**
 * A gRPC server on node:http2 for the resolver's three methods. With grpc-js's server, Resolve
 * reached 55–62 % of the rate of the same answers written straight to node:http2
 * (bench/baseline.ts). The resolver answers from a cache of already-framed bytes, so its own work
 * per call is a map hit; the rest is what the stack does per stream. This serves what the
 * resolver needs and no more: unary and server-streaming calls, uncompressed messages up to
 * 4 MiB, bearer metadata, percent-encoded status messages, TLS, graceful and forced shutdown.
 * Deadlines are the client's (it cancels, which closes the stream here). Tested with grpc-js
 * and grpc-go clients and with h2load; the SDK still uses grpc-js as its client.
 */
export class GrpcServer {
  readonly #server: Http2Server | Http2SecureServer;
  readonly #sessions = new Set<ServerHttp2Session>();
  readonly #options: GrpcServerOptions;

  constructor(options: GrpcServerOptions) {
    this.#options = options;
    // Node caps a session's buffered frames at 10 MB and then refuses its new streams; the
    // resolver bounds what Watch streams hold itself (send-budget.ts), as grpc-js leaves it.
    const common = { maxSessionMemory: Number.MAX_SAFE_INTEGER };
    this.#server = options.tls === undefined
      ? createServer(common)
      : createSecureServer({ ...common, cert: options.tls.cert, key: options.tls.key, allowHTTP1: false });
    this.#server.on('session', (s: ServerHttp2Session) => {
      this.#sessions.add(s);
      s.on('error', () => undefined);
      s.once('close', () => this.#sessions.delete(s));
    });
    this.#server.on('connection', (socket: Socket) => {
      // Small answers to pipelined calls must not wait for Nagle; a peer that vanished without a
      // FIN must not hold an idle Watch for the kernel's two hours.
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 60_000);
    });
    this.#server.on('stream', (stream, headers) => { this.#onStream(stream, headers); });
  }

  /** Binds; resolves with the bound port, rejects with the listen error. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => { reject(err); };
      this.#server.once('error', failed);
      this.#server.listen(port, host, () => {
        this.#server.off('error', failed);
        this.#server.on('error', this.#options.onError);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops accepting, sends GOAWAY, and resolves once every open call has ended. */
  tryShutdown(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => { resolve(); });
      for (const s of this.#sessions) s.close();
    });
  }

  /** Cuts every connection now. */
  forceShutdown(): void {
    for (const s of this.#sessions) s.destroy();
    this.#server.close();
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    // A peer's reset or a lost connection surfaces here; the stream's 'close' does the rest.
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'POST' || !isGrpcContentType(headers['content-type'])) {
      if (!stream.headersSent) stream.respond({ ':status': 415, 'content-type': 'text/plain' });
      stream.end('gRPC only: POST with content-type application/grpc\n');
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.#options.methods.get(path);
    if (method === undefined) {
      trailersOnly(stream, failure(status.UNIMPLEMENTED, `method ${path.slice(0, 200)} is not served here`));
      return;
    }
    readBody(stream, (body) => {
      const request = isFailure(body) ? body : onlyMessage(body);
      if (isFailure(request)) {
        trailersOnly(stream, request);
        return;
      }
      try {
        if (method.kind === 'unary') this.#unary(stream, method.handle(request, headers));
        else {
          const refused = method.handle(request, headers, () => admit(stream));
          if (refused !== undefined) trailersOnly(stream, refused);
        }
      } catch (err) {
        this.#options.onError(err);
        trailersOnly(stream, failure(status.INTERNAL, INTERNAL));
      }
    });
  }

  #unary(stream: ServerHttp2Stream, answer: Buffer | GrpcFailure): void {
    if (isFailure(answer)) {
      trailersOnly(stream, answer);
      return;
    }
    if (stream.destroyed) return;
    stream.respond(okHeaders(), { waitForTrailers: true });
    stream.once('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': '0' }); });
    stream.end(answer);
  }
}

/** Sends a streaming call's headers and hands out its writer. */
function admit(stream: ServerHttp2Stream): StreamCall {
  if (!stream.destroyed && !stream.headersSent) {
    stream.respond(okHeaders(), { waitForTrailers: true });
    stream.once('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': '0' }); });
  }
  return {
    write: (framed, sent) => {
      if (stream.destroyed || stream.writableEnded) return;
      stream.write(framed, () => { sent(); });
    },
    end: () => {
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    },
    reset: () => {
      if (!stream.destroyed) stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    },
    onClose: (listener) => {
      if (stream.destroyed) queueMicrotask(listener);
      else stream.once('close', listener);
    },
  };
}
