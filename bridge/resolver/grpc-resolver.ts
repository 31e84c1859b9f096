import type { MeshNaming } from './mesh.ts';
import { Server, ServerCredentials, status, type Metadata, type ServiceError, type sendUnaryData } from '@grpc/grpc-js';
import type { Catalog } from '../catalog/index.ts';
import { BridgeError } from '../errors/index.ts';
import { refKey, type ServiceRef } from '../model/index.ts';
import type { ResolveResponse, ResolverServiceServer, WatchResponse } from '../../proto/gen/isthmus/v1/resolver.ts';
import type { Split } from '../sync/index.ts';
import { bearerChecker } from './auth.ts';
import { DEFAULT_EVENT_TIMING, type EventStreamTiming } from './event-stream.ts';
import { filtersFromProto, listToProto, serviceToProto } from './grpc-convert.ts';
import { GrpcAnswers } from './grpc-encode.ts';
import { serveWatch } from './grpc-watch.ts';
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

type GrpcError = Partial<ServiceError> & { code: status; details: string };

function fail(code: status, details: string): GrpcError {
  return { code, details, message: details, name: 'Error' };
}

/** The requested ref, or INVALID_ARGUMENT: a name is never echoed back, it may be megabytes. */
function refOf(req: { namespace: string; name: string }): ServiceRef | GrpcError {
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

function isError(x: ServiceRef | GrpcError): x is GrpcError {
  return 'code' in x;
}

/**
 * The gRPC side of the resolver (proto/isthmus/v1/resolver.proto): the same catalog, filters and
 * semantics as the HTTP API, served with @grpc/grpc-js. Bearer auth applies to every method
 * (`authorization: Bearer <token>` metadata → UNAUTHENTICATED otherwise); gRPC has no health or
 * metrics of its own here, those stay on the HTTP listener, open.
 *
 * Names are capped like HTTP's (INVALID_ARGUMENT). Watch streams are bounded (limits.ts): at most
 * maxWatchStreams (RESOURCE_EXHAUSTED ISTHMUS_TOO_MANY_WATCHES beyond), one unsent state each,
 * maxBufferedBytes of unsent state together, and a client that stops reading is reset
 * (grpc-watch.ts, send-budget.ts).
 */
export class GrpcResolver {
  readonly #deps: GrpcResolverDeps;
  // Channelz keeps per-call counters and traces nobody here reads: pure per-call cost.
  readonly #server = new Server({ 'grpc.enable_channelz': 0 });
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
    this.#server.addService(this.#answers.service, this.#handlers());
  }

  /** Binds and serves; resolves with the bound port (0 picks a free one). */
  listen(where: { host?: string; port: number }): Promise<number> {
    const tls = this.#deps.tls;
    const creds =
      tls === undefined
        ? ServerCredentials.createInsecure()
        : ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false);
    const host = where.host ?? '0.0.0.0';
    const address = host.includes(':') ? `[${host}]:${where.port}` : `${host}:${where.port}`;
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, creds, (err, port) => {
        if (err === null) resolve(port);
        else reject(new BridgeError('ISTHMUS_CONFIG_INVALID', `cannot listen for gRPC on ${address}: ${err.message}`, { cause: err, terminal: true }));
      });
    });
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
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    this.#hub.stop();
    this.#answers.clear();
  }

  #authorized(metadata: Metadata): GrpcError | undefined {
    if (this.#checkToken === undefined) return undefined;
    const value = metadata.get('authorization')[0];
    if (this.#checkToken(typeof value === 'string' ? value : undefined)) return undefined;
    return fail(status.UNAUTHENTICATED, 'ISTHMUS_UNAUTHENTICATED: missing or wrong bearer token (send metadata "authorization: Bearer <token>")');
  }

  /** The Resolve answer, shared by every caller asking the same at this revision; undefined while absent. */
  #answer(ref: ServiceRef, filters: EndpointFilters): ResolveResponse | undefined {
    const entry = this.#deps.catalog.get(ref);
    if (entry === undefined) return undefined;
    const split = this.#deps.splits?.get(ref);
    return this.#answers.resolve(answerKey(ref, filters), entry.revision, split, () => serviceToProto(entry, filters, split, this.#deps.mesh));
  }

  #watchMessage(ref: ServiceRef, filters: EndpointFilters, key: string, index: number): WatchResponse {
    const entry = this.#deps.catalog.get(ref);
    if (entry === undefined) return this.#answers.deleted(index);
    const split = this.#deps.splits?.get(ref);
    return this.#answers.watch(key, entry.revision, split, () => serviceToProto(entry, filters, split, this.#deps.mesh));
  }

  #guard<T>(callback: sendUnaryData<T>, fn: () => T | GrpcError): void {
    this.#counts.requests++;
    let out: T | GrpcError;
    try {
      out = fn();
    } catch (err) {
      this.#deps.onError?.(err);
      this.#counts.failedGrpc(status.INTERNAL);
      callback(fail(status.INTERNAL, 'ISTHMUS_INTERNAL: internal error; the resolver log has the cause'));
      return;
    }
    if (typeof out === 'object' && out !== null && 'code' in out && 'details' in out) {
      this.#counts.failedGrpc(out.code);
      callback(out);
    } else callback(null, out);
  }

  /** Ends a Watch before it starts. */
  #refuse(call: { emit(event: 'error', err: GrpcError): unknown }, err: GrpcError): void {
    this.#counts.failedGrpc(err.code);
    call.emit('error', err);
  }

  #handlers(): ResolverServiceServer {
    const { catalog } = this.#deps;
    return {
      listServices: (call, callback) => {
        this.#guard(callback, () => {
          const denied = this.#authorized(call.metadata);
          if (denied !== undefined) return denied;
          const ns = call.request.namespace;
          const problem = ns === '' ? undefined : nameProblem('namespace', ns);
          if (problem !== undefined) return fail(status.INVALID_ARGUMENT, `ISTHMUS_USAGE: ${problem}`);
          const entries = catalog.list().filter((e) => ns === '' || e.ref.namespace === ns);
          return listToProto(catalog.revision(), entries);
        });
      },
      resolve: (call, callback) => {
        this.#guard(callback, () => {
          const denied = this.#authorized(call.metadata);
          if (denied !== undefined) return denied;
          const ref = refOf(call.request);
          if (isError(ref)) return ref;
          const answer = this.#answer(ref, filtersFromProto(call.request.filters));
          return answer ?? fail(status.NOT_FOUND, `ISTHMUS_NOT_FOUND: service ${refKey(ref)} is not in the catalog`);
        });
      },
      watch: (call) => {
        this.#counts.requests++;
        const denied = this.#authorized(call.metadata);
        const ref = denied ?? refOf(call.request);
        if (isError(ref)) {
          this.#refuse(call, ref);
          return;
        }
        if (this.#hub.draining) {
          this.#refuse(call, fail(status.UNAVAILABLE, 'ISTHMUS_SHUTTING_DOWN: this resolver is shutting down; watch another replica'));
          return;
        }
        if (this.#hub.full) {
          this.#refusedWatches++;
          const max = this.#limits.maxWatchStreams;
          this.#refuse(call, fail(status.RESOURCE_EXHAUSTED, `ISTHMUS_TOO_MANY_WATCHES: this resolver serves at most ${max} Watch streams; retry later or watch another replica`));
          return;
        }
        const filters = filtersFromProto(call.request.filters);
        const key = answerKey(ref, filters);
        serveWatch({
          call,
          hub: this.#hub,
          ref,
          timing: this.#timing,
          message: (index) => this.#watchMessage(ref, filters, key, index),
          encode: (m) => this.#answers.size(m),
          budget: this.#budget,
          slowConsumerMs: this.#limits.slowConsumerMs,
          onSlowConsumer: () => {
            this.#slowConsumers++;
            this.#deps.onSlowConsumer?.(ref);
          },
        });
      },
    };
  }
}
