import type { IncomingHttpHeaders } from 'node:http2';
import { status } from '@grpc/grpc-js';
import type { MeshNaming } from './mesh.ts';
import type { Catalog } from '../catalog/index.ts';
import { BridgeError } from '../errors/index.ts';
import { refKey, type ServiceRef } from '../model/index.ts';
import { ListServicesRequest, ListServicesResponse, ResolveRequest, WatchRequest } from '../../proto/gen/isthmus/v1/resolver.ts';
import type { Split } from '../sync/index.ts';
import { bearerChecker } from './auth.ts';
import { DEFAULT_EVENT_TIMING, type EventStreamTiming } from './event-stream.ts';
import { filtersFromProto, listToProto, serviceToProto } from './grpc-convert.ts';
import { GrpcAnswers } from './grpc-encode.ts';
import { GrpcServer, type GrpcMethod, type StreamCall } from './grpc-server.ts';
import { serveWatch } from './grpc-watch.ts';
import { failure as fail, frame, isFailure, type GrpcFailure } from './grpc-wire.ts';
import { nameProblem, watchLimits, type WatchLimits } from './limits.ts';
import type { EndpointFilters } from './params.ts';
import { SendBudget } from './send-budget.ts';
import type { TlsFiles } from './tls.ts';
import { RequestCounts } from './traffic.ts';
import { WatchHub } from './watch-hub.ts';

export interface GrpcResolverDeps {
  readonly catalog: Catalog;
  /** The split in force per service, echoed in answers (the weights already carry it). */
  readonly splits?: { get(ref: ServiceRef): Split | undefined };
  readonly auth?: { readonly token: string };
  readonly tls?: TlsFiles;
  readonly timing?: Partial<Pick<EventStreamTiming, 'quietMs' | 'maxDelayMs'>>;
  /** Stream count, send budget and slow-consumer policy; unset fields take the defaults. */
  readonly limits?: Partial<WatchLimits>;
  readonly onError?: (err: unknown) => void;
  /** A Watch stream was reset because its client stopped taking what it was sent. */
  readonly onSlowConsumer?: (ref: ServiceRef) => void;
  /** Mesh names for `filters.mesh` (mesh.ts). */
  readonly mesh?: MeshNaming;
}

/** Gauges and counters for metrics and tests. */
export interface GrpcResolverStats {
  /** Open Watch streams. */
  readonly watchers: number;
  /** Unsent Watch state held right now. */
  readonly bufferedBytes: number;
  /** Streams reset as slow consumers since start. */
  readonly slowConsumers: number;
  /** Watches refused at maxWatchStreams since start. */
  readonly refusedWatches: number;
  /** Calls since start (Watch counts once, when it opens); the failed ones by class. */
  readonly requests: Readonly<RequestCounts>;
}

/** The requested ref, or INVALID_ARGUMENT: a name is never echoed back, it may be megabytes. */
function refOf(req: { namespace: string; name: string }): ServiceRef | GrpcFailure {
  const problem = nameProblem('namespace', req.namespace) ?? nameProblem('name', req.name);
  if (problem !== undefined) return fail(status.INVALID_ARGUMENT, `ISTHMUS_USAGE: ${problem}`);
  return { namespace: req.namespace, name: req.name };
}

/**
 * How long a stream may hold unsent state while others wait for the budget: a tenth of the
 * slow-consumer time (1 s by default), long enough for a healthy client to take a state of MBs.
 */
function pressureMs(slowConsumerMs: number): number {
  return slowConsumerMs / 10;
}

/** Names are free text (no separator is safe), so the key is JSON. */
function answerKey(ref: ServiceRef, f: EndpointFilters): string {
  return JSON.stringify([ref.namespace, ref.name, f.healthy, f.origin ?? null, f.zone ?? null, f.mesh]);
}

const SERVICE = '/isthmus.v1.ResolverService/';

/** Decodes a request; a message that is not one answers INTERNAL, as grpc-js does. */
function decode<T>(what: { decode(bytes: Uint8Array): T }, bytes: Buffer): T | GrpcFailure {
  try {
    return what.decode(bytes);
  } catch {
    return fail(status.INTERNAL, 'request message could not be decoded');
  }
}

/**
 * The gRPC side of the resolver (proto/isthmus/v1/resolver.proto): the same catalog, filters and
 * semantics as the HTTP API, served by grpc-server.ts on node:http2. Bearer auth applies to every
 * method (`authorization: Bearer <token>` metadata → UNAUTHENTICATED otherwise); gRPC has no
 * health or metrics of its own here, those stay on the HTTP listener, open.
 *
 * Names are capped like HTTP's (INVALID_ARGUMENT). Watch streams are bounded (limits.ts): at most
 * maxWatchStreams (RESOURCE_EXHAUSTED ISTHMUS_TOO_MANY_WATCHES beyond), one unsent state each,
 * maxBufferedBytes of unsent state together, and a client that stops reading is reset
 * (grpc-watch.ts, send-budget.ts).
 */
export class GrpcResolver {
  readonly #deps: GrpcResolverDeps;
  readonly #server: GrpcServer;
  readonly #hub: WatchHub;
  readonly #timing: Pick<EventStreamTiming, 'quietMs' | 'maxDelayMs'>;
  readonly #checkToken: ((header: string | undefined) => boolean) | undefined;
  readonly #limits: WatchLimits;
  readonly #budget: SendBudget;
  readonly #answers = new GrpcAnswers();
  #slowConsumers = 0;
  #refusedWatches = 0;
  readonly #counts = new RequestCounts();

  constructor(deps: GrpcResolverDeps) {
    this.#deps = deps;
    this.#checkToken = deps.auth === undefined ? undefined : bearerChecker(deps.auth.token);
    this.#timing = { quietMs: DEFAULT_EVENT_TIMING.quietMs, maxDelayMs: DEFAULT_EVENT_TIMING.maxDelayMs, ...deps.timing };
    this.#limits = watchLimits(deps.limits);
    this.#budget = new SendBudget(this.#limits.maxBufferedBytes, pressureMs(this.#limits.slowConsumerMs));
    this.#hub = new WatchHub(deps.catalog, { onError: deps.onError ?? (() => undefined), maxWatchers: this.#limits.maxWatchStreams });
    this.#hub.start();
    this.#server = new GrpcServer({
      methods: this.#methods(),
      ...(deps.tls === undefined ? {} : { tls: deps.tls }),
      onError: (err) => {
        this.#counts.failedGrpc(status.INTERNAL);
        deps.onError?.(err);
      },
    });
  }

  /** Binds and serves; resolves with the bound port (0 picks a free one). */
  async listen(where: { host?: string; port: number }): Promise<number> {
    const host = where.host ?? '0.0.0.0';
    try {
      return await this.#server.listen(host, where.port);
    } catch (err) {
      const address = host.includes(':') ? `[${host}]:${where.port}` : `${host}:${where.port}`;
      throw new BridgeError('ISTHMUS_CONFIG_INVALID', `cannot listen for gRPC on ${address}: ${(err as Error).message}`, { cause: err, terminal: true });
    }
  }

  /** Ends every Watch (clients reconnect elsewhere) and refuses new ones; lookups keep working. */
  drain(): void {
    this.#hub.drain();
  }

  /** Open Watch streams. */
  watchers(): number {
    return this.#hub.watcherCount();
  }

  stats(): GrpcResolverStats {
    return {
      watchers: this.#hub.watcherCount(),
      bufferedBytes: this.#budget.used,
      slowConsumers: this.#slowConsumers,
      refusedWatches: this.#refusedWatches,
      requests: this.#counts,
    };
  }

  /** Drains, lets in-flight calls finish for up to `graceMs`, then cuts what is left. */
  async close(graceMs = 5_000): Promise<void> {
    this.drain();
    let force: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => {
      force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
    });
    await Promise.race([this.#server.tryShutdown(), cut]);
    clearTimeout(force);
    this.#hub.stop();
    this.#answers.clear();
  }

  #authorized(headers: IncomingHttpHeaders): GrpcFailure | undefined {
    if (this.#checkToken === undefined || this.#checkToken(headers.authorization)) return undefined;
    return fail(status.UNAUTHENTICATED, 'ISTHMUS_UNAUTHENTICATED: missing or wrong bearer token (send metadata "authorization: Bearer <token>")');
  }

  /** The framed Resolve answer, shared by every caller asking the same at this revision; undefined while absent. */
  #answer(ref: ServiceRef, filters: EndpointFilters): Buffer | undefined {
    const entry = this.#deps.catalog.get(ref);
    if (entry === undefined) return undefined;
    const split = this.#deps.splits?.get(ref);
    return this.#answers.resolve(answerKey(ref, filters), entry.revision, split, () => serviceToProto(entry, filters, split, this.#deps.mesh));
  }

  #watchMessage(ref: ServiceRef, filters: EndpointFilters, key: string, index: number): Buffer {
    const entry = this.#deps.catalog.get(ref);
    if (entry === undefined) return this.#answers.deleted(index);
    const split = this.#deps.splits?.get(ref);
    return this.#answers.watch(key, entry.revision, split, () => serviceToProto(entry, filters, split, this.#deps.mesh));
  }

  /** Counts a call and its failure; a throw is the server's to answer (INTERNAL, counted there). */
  #counted<T>(out: T | GrpcFailure): T | GrpcFailure {
    if (isFailure(out)) this.#counts.failedGrpc(out.code);
    return out;
  }

  /** A unary method: counted, authorized and decoded before `answer`; each failure counted by its code. */
  #unary<T extends object>(message: { decode(bytes: Uint8Array): T }, answer: (req: T) => Buffer | GrpcFailure): GrpcMethod {
    return {
      kind: 'unary',
      handle: (bytes, headers) => {
        this.#counts.requests++;
        const req = this.#authorized(headers) ?? decode(message, bytes);
        return this.#counted(isFailure(req) ? req : answer(req));
      },
    };
  }

  #methods(): ReadonlyMap<string, GrpcMethod> {
    const { catalog } = this.#deps;
    const listServices = this.#unary(ListServicesRequest, (req) => {
      const ns = req.namespace;
      const problem = ns === '' ? undefined : nameProblem('namespace', ns);
      if (problem !== undefined) return fail(status.INVALID_ARGUMENT, `ISTHMUS_USAGE: ${problem}`);
      const entries = catalog.list().filter((e) => ns === '' || e.ref.namespace === ns);
      return frame(ListServicesResponse.encode(listToProto(catalog.revision(), entries)).finish());
    });
    const resolve = this.#unary(ResolveRequest, (req) => {
      const ref = refOf(req);
      if (isFailure(ref)) return ref;
      return this.#answer(ref, filtersFromProto(req.filters)) ?? fail(status.NOT_FOUND, `ISTHMUS_NOT_FOUND: service ${refKey(ref)} is not in the catalog`);
    });
    const watch: GrpcMethod = {
      kind: 'stream',
      handle: (bytes, headers, admit) => {
        this.#counts.requests++;
        const req = decode(WatchRequest, bytes);
        const ref = this.#authorized(headers) ?? (isFailure(req) ? req : refOf(req));
        if (isFailure(ref)) return this.#counted(ref);
        if (this.#hub.draining) {
          return this.#counted(fail(status.UNAVAILABLE, 'ISTHMUS_SHUTTING_DOWN: this resolver is shutting down; watch another replica'));
        }
        if (this.#hub.full) {
          this.#refusedWatches++;
          const max = this.#limits.maxWatchStreams;
          return this.#counted(fail(status.RESOURCE_EXHAUSTED, `ISTHMUS_TOO_MANY_WATCHES: this resolver serves at most ${max} Watch streams; retry later or watch another replica`));
        }
        const filters = filtersFromProto(isFailure(req) ? undefined : req.filters);
        this.#watch(ref, filters, admit());
        return undefined;
      },
    };
    return new Map<string, GrpcMethod>([
      [`${SERVICE}ListServices`, listServices],
      [`${SERVICE}Resolve`, resolve],
      [`${SERVICE}Watch`, watch],
    ]);
  }

  #watch(ref: ServiceRef, filters: EndpointFilters, call: StreamCall): void {
    const key = answerKey(ref, filters);
    serveWatch({
      call,
      hub: this.#hub,
      ref,
      timing: this.#timing,
      message: (index) => this.#watchMessage(ref, filters, key, index),
      budget: this.#budget,
      slowConsumerMs: this.#limits.slowConsumerMs,
      onSlowConsumer: () => {
        this.#slowConsumers++;
        this.#deps.onSlowConsumer?.(ref);
      },
    });
  }
}
