import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { TokenSource } from './auth.ts';
import { decodePayload, encodePayload, type Payload } from './proto.ts';

export interface NacosConnectionOptions {
  /** `host:port` of the gRPC SDK ports, tried in turn. */
  readonly targets: readonly string[];
  readonly registry: string;
  readonly tokens?: TokenSource;
  readonly requestTimeoutMs: number;
  /** A HealthCheckRequest is sent when the connection was idle this long (the Java client: 5 s). */
  readonly keepaliveMs: number;
  readonly maxBackoffMs: number;
  /** What the server shows as the client (ConnectionSetupRequest labels `module`). */
  readonly module: 'naming';
  readonly logger?: EngineLogger;
}

/** The common fields of every Nacos response body. */
export interface NacosResponse {
  readonly resultCode?: number;
  readonly errorCode?: number;
  readonly message?: string | null;
}

type PushHandler = (body: Record<string, unknown>) => void;

const CLIENT_VERSION = 'Nacos-Isthmus-Client:v2.5.0';
/** NacosException.UN_REGISTER: the server does not know our connection (yet, or any more). */
const UNREGISTERED = 301;

/**
 * One Nacos 2.x/3.x SDK connection: ServerCheck, then the bi-directional stream announced with
 * ConnectionSetupRequest, then unary requests on the same HTTP/2 session (the server recognises
 * the connection by that session's remote address). The server pushes requests down the stream
 * (NotifySubscriber, ClientDetection, ConnectReset, SetupAck), each answered at once. Ephemeral
 * instances live exactly as long as this connection, so every (re)connect is announced to
 * `onConnected` listeners, which must redo their registrations and subscriptions.
 */
export class NacosConnection {
  readonly #o: NacosConnectionOptions;
  readonly #push = new Map<string, PushHandler>();
  readonly #connected = new Set<(connectionId: string) => void>();
  readonly #disconnected = new Set<(reason: string) => void>();
  readonly #waiters = new Set<() => void>();
  #client: grpc.Client | undefined;
  #stream: grpc.ClientDuplexStream<Payload, Payload> | undefined;
  #connectionId: string | undefined;
  #ready = false;
  #lastActivity = 0;
  #target = 0;
  #signal: AbortSignal | undefined;
  #kick: (() => void) | undefined;
  #lastError: string | undefined;
  /** Unary requests sent (keepalives included), and the write requests among them. */
  requests = 0;
  writes = 0;

  constructor(o: NacosConnectionOptions) {
    this.#o = o;
  }

  get connectionId(): string | undefined {
    return this.#ready ? this.#connectionId : undefined;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Handles a server-pushed request type (the response is sent for the handler). */
  onPush(type: string, handler: PushHandler): void {
    this.#push.set(type, handler);
  }

  onConnected(listener: (connectionId: string) => void): () => void {
    this.#connected.add(listener);
    return () => this.#connected.delete(listener);
  }

  onDisconnected(listener: (reason: string) => void): () => void {
    this.#disconnected.add(listener);
    return () => this.#disconnected.delete(listener);
  }

  /** Starts the connect loop; it reconnects with backoff until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (this.#signal !== undefined) return;
    this.#signal = signal;
    signal.addEventListener('abort', () => { this.#teardown('closed'); this.#kick?.(); }, { once: true });
    void this.#loop(signal);
  }

  /** Resolves when connected, or throws ISTHMUS_REGISTRY_UNREACHABLE after `timeoutMs`. */
  async ready(timeoutMs = this.#o.requestTimeoutMs): Promise<void> {
    if (this.#ready) return;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); this.#waiters.delete(done); resolve(); };
      const timer = setTimeout(() => {
        this.#waiters.delete(done);
        reject(this.#unreachable(`not connected within ${timeoutMs} ms${this.#lastError === undefined ? '' : ` (${this.#lastError})`}`));
      }, timeoutMs);
      this.#waiters.add(done);
    });
  }

  /**
   * One unary request. `write` counts it as a registry write. Auth and refusals become typed
   * errors; a server that forgot our connection makes us reconnect.
   */
  async request<T extends NacosResponse>(type: string, body: Record<string, unknown>, o: { write?: boolean } = {}): Promise<T> {
    await this.ready();
    const client = this.#client;
    if (client === undefined) throw this.#unreachable('connection closed');
    const headers: Record<string, string> = { app: 'isthmus' };
    if (this.#o.tokens !== undefined) headers['accessToken'] = await this.#o.tokens.token();
    this.requests++;
    if (o.write === true) this.writes++;
    const reply = await this.#unary(client, { type, headers, clientIp: '', body: JSON.stringify({ ...body, headers: {}, module: this.#o.module }) });
    this.#lastActivity = Date.now();
    const res = parse<T>(reply.body);
    if (res.resultCode === undefined || res.resultCode === 200) return res;
    const code = res.errorCode ?? 0;
    const msg = `${this.#o.registry}: Nacos refused ${type}: ${res.message ?? `error ${code}`}`;
    const details = { registry: this.#o.registry, errorCode: code };
    if (code === 401 || code === 403) {
      this.#o.tokens?.invalidate();
      throw new BridgeError('ISTHMUS_REGISTRY_AUTH', `${msg} (check the Nacos username, password and the user's permissions)`, { details });
    }
    if (code === UNREGISTERED) {
      this.#teardown('server does not know our connection');
      throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', msg, { details });
    }
    if (code >= 500 && code !== 500) throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', msg, { details });
    throw new BridgeError('ISTHMUS_REGISTRY_REJECTED', msg, { details });
  }

  #unary(client: grpc.Client, payload: Payload): Promise<Payload> {
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        '/Request/request',
        encodePayload,
        decodePayload,
        payload,
        new grpc.Metadata(),
        { deadline: Date.now() + this.#o.requestTimeoutMs },
        (err, reply) => {
          if (err !== null || reply === undefined) reject(this.#unreachable(`${payload.type}: ${err?.details ?? 'no reply'}`, err ?? undefined));
          else resolve(reply);
        },
      );
    });
  }

  async #loop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const target = this.#o.targets[this.#target % this.#o.targets.length] ?? '127.0.0.1:9848';
      try {
        await this.#connect(target);
        failures = 0;
        await this.#supervise(signal);
      } catch (err) {
        failures++;
        this.#lastError = describeError(err);
        this.#teardown(this.#lastError);
        this.#target++;
        if (failures === 1 || failures % 10 === 0) this.#o.logger?.warn({ registry: this.#o.registry, target, failures, err: this.#lastError }, 'nacos connection failed; retrying');
      }
      if (stopped(signal)) break;
      const delay = Math.min(this.#o.maxBackoffMs, 100 * 2 ** Math.min(failures, 10));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, failures === 0 ? 50 : delay);
        this.#kick = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  async #connect(target: string): Promise<void> {
    const client = new grpc.Client(target, grpc.credentials.createInsecure(), {
      // Nacos knows a connection by its TCP peer address; grpc-js would otherwise share one
      // HTTP/2 session between every client of a target, merging their instances on the server.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
    this.#client = client;
    const check = parse<NacosResponse & { connectionId?: string }>((await this.#unary(client, { type: 'ServerCheckRequest', headers: {}, clientIp: '', body: '{"headers":{}}' })).body);
    if (check.connectionId === undefined) throw this.#unreachable(`server check failed: ${check.message ?? 'no connection id'}`);
    const stream = client.makeBidiStreamRequest('/BiRequestStream/requestBiStream', encodePayload, decodePayload, new grpc.Metadata());
    this.#stream = stream;
    stream.on('data', (p: Payload) => { this.#onServerRequest(stream, p); });
    stream.on('error', (err: Error) => { if (this.#stream === stream) this.#teardown(`stream failed: ${err.message}`); });
    stream.on('end', () => { if (this.#stream === stream) this.#teardown('server closed the stream'); });
    const setup = {
      clientVersion: CLIENT_VERSION,
      tenant: '',
      labels: { source: 'sdk', module: this.#o.module, AppName: 'isthmus' },
      abilityTable: {},
      headers: {},
      requestId: randomUUID(),
    };
    stream.write({ type: 'ConnectionSetupRequest', headers: {}, clientIp: '', body: JSON.stringify(setup) });
    // The server registers the connection asynchronously after the setup message; requests sent
    // before that answer UN_REGISTER, so poll with the cheapest request until it is accepted.
    const deadline = Date.now() + this.#o.requestTimeoutMs;
    for (;;) {
      const reply = parse<NacosResponse>((await this.#unary(client, { type: 'HealthCheckRequest', headers: {}, clientIp: '', body: '{"headers":{}}' })).body);
      if (reply.resultCode === undefined || reply.resultCode === 200) break;
      if (Date.now() > deadline || reply.errorCode !== UNREGISTERED) throw this.#unreachable(`connection setup refused: ${reply.message ?? reply.errorCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (this.#stream !== stream) throw this.#unreachable('stream closed during setup');
    this.#connectionId = check.connectionId;
    this.#ready = true;
    this.#lastActivity = Date.now();
    this.#lastError = undefined;
    this.#o.logger?.info({ registry: this.#o.registry, target, connectionId: check.connectionId }, 'nacos connected');
    for (const w of [...this.#waiters]) w();
    for (const l of this.#connected) l(check.connectionId);
  }

  /** Keeps the connection alive and checked; returns when it is gone. */
  async #supervise(signal: AbortSignal): Promise<void> {
    while (this.#ready && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(250, Math.min(1000, this.#o.keepaliveMs)));
        this.#kick = () => { clearTimeout(t); resolve(); };
      });
      const client = this.#client;
      if (!this.#isReady() || client === undefined || Date.now() - this.#lastActivity < this.#o.keepaliveMs) continue;
      try {
        this.requests++;
        const reply = parse<NacosResponse>((await this.#unary(client, { type: 'HealthCheckRequest', headers: {}, clientIp: '', body: '{"headers":{}}' })).body);
        if (reply.resultCode !== undefined && reply.resultCode !== 200) throw this.#unreachable(`health check refused: ${reply.message ?? reply.errorCode}`);
        this.#lastActivity = Date.now();
      } catch (err) {
        this.#teardown(describeError(err));
      }
    }
    if (!signal.aborted) throw this.#unreachable(this.#lastError ?? 'connection lost');
  }

  #onServerRequest(stream: grpc.ClientDuplexStream<Payload, Payload>, p: Payload): void {
    const body = parse<Record<string, unknown>>(p.body);
    if (!p.type.endsWith('Request')) return; // a late response to nothing we track
    const reply = { requestId: body['requestId'] ?? '', resultCode: 200, errorCode: 0, success: true };
    try {
      stream.write({ type: `${p.type.slice(0, -'Request'.length)}Response`, headers: {}, clientIp: '', body: JSON.stringify(reply) });
    } catch {
      // the stream is going away; the reconnect re-sends everything anyway
    }
    this.#lastActivity = Date.now();
    if (p.type === 'ConnectResetRequest') {
      this.#teardown('server asked us to reconnect');
      return;
    }
    const handler = this.#push.get(p.type);
    if (handler !== undefined) {
      try {
        handler(body);
      } catch (err) {
        this.#o.logger?.warn({ registry: this.#o.registry, type: p.type, err: describeError(err) }, 'nacos push handler failed');
      }
    }
  }

  #isReady(): boolean {
    return this.#ready;
  }

  #teardown(reason: string): void {
    const wasReady = this.#ready;
    this.#ready = false;
    this.#connectionId = undefined;
    const stream = this.#stream;
    const client = this.#client;
    this.#stream = undefined;
    this.#client = undefined;
    try {
      stream?.end();
      stream?.cancel();
    } catch {
      // already gone
    }
    client?.close();
    if (wasReady) {
      this.#lastError = reason;
      if (reason !== 'closed') this.#o.logger?.warn({ registry: this.#o.registry, reason }, 'nacos connection lost; reconnecting');
      for (const l of this.#disconnected) l(reason);
    }
    this.#kick?.();
  }

  #unreachable(why: string, cause?: unknown): BridgeError {
    return new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `${this.#o.registry}: Nacos gRPC ${why}`, {
      ...(cause === undefined ? {} : { cause }),
      details: { registry: this.#o.registry },
    });
  }
}

/** Read through a call so the compiler does not keep a narrowing from before an await. */
function stopped(signal: AbortSignal): boolean {
  return signal.aborted;
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the JSON shape it expects
function parse<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return {} as T;
  }
}
