import { Server, ServerCredentials, status, type Metadata, type ServiceError, type sendUnaryData } from '@grpc/grpc-js';
import type { Catalog } from '../catalog/index.ts';
import { BridgeError } from '../errors/index.ts';
import { refKey, type ServiceRef } from '../model/index.ts';
import { ResolverServiceService, type ResolverServiceServer, type Service } from '../../proto/gen/isthmus/v1/resolver.ts';
import type { Split } from '../sync/index.ts';
import { bearerChecker } from './auth.ts';
import { DEFAULT_EVENT_TIMING, type EventStreamTiming } from './event-stream.ts';
import { filtersFromProto, listToProto, serviceToProto } from './grpc-convert.ts';
import { serveWatch } from './grpc-watch.ts';
import type { EndpointFilters } from './params.ts';
import type { TlsFiles } from './tls.ts';
import { WatchHub } from './watch-hub.ts';

export interface GrpcResolverDeps {
  readonly catalog: Catalog;
  /** The split in force per service, echoed in answers (the weights already carry it). */
  readonly splits?: { get(ref: ServiceRef): Split | undefined };
  readonly auth?: { readonly token: string };
  readonly tls?: TlsFiles;
  readonly timing?: Partial<Pick<EventStreamTiming, 'quietMs' | 'maxDelayMs'>>;
  readonly onError?: (err: unknown) => void;
}

type GrpcError = Partial<ServiceError> & { code: status; details: string };

function fail(code: status, details: string): GrpcError {
  return { code, details, message: details, name: 'Error' };
}

function refOf(req: { namespace: string; name: string }): ServiceRef | GrpcError {
  if (req.namespace === '' || req.name === '') return fail(status.INVALID_ARGUMENT, 'ISTHMUS_USAGE: namespace and name must not be empty');
  return { namespace: req.namespace, name: req.name };
}

function isError(x: ServiceRef | GrpcError): x is GrpcError {
  return 'code' in x;
}

/**
 * The gRPC side of the resolver (proto/isthmus/v1/resolver.proto): the same catalog, filters and
 * semantics as the HTTP API, served with @grpc/grpc-js. Bearer auth applies to every method
 * (`authorization: Bearer <token>` metadata → UNAUTHENTICATED otherwise); gRPC has no health or
 * metrics of its own here, those stay on the HTTP listener, open.
 */
export class GrpcResolver {
  readonly #deps: GrpcResolverDeps;
  readonly #server = new Server();
  readonly #hub: WatchHub;
  readonly #timing: Pick<EventStreamTiming, 'quietMs' | 'maxDelayMs'>;
  readonly #checkToken: ((header: string | undefined) => boolean) | undefined;

  constructor(deps: GrpcResolverDeps) {
    this.#deps = deps;
    this.#checkToken = deps.auth === undefined ? undefined : bearerChecker(deps.auth.token);
    this.#timing = { quietMs: DEFAULT_EVENT_TIMING.quietMs, maxDelayMs: DEFAULT_EVENT_TIMING.maxDelayMs, ...deps.timing };
    this.#hub = new WatchHub(deps.catalog, { onError: deps.onError ?? (() => undefined) });
    this.#hub.start();
    this.#server.addService(ResolverServiceService, this.#handlers());
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
  }

  #authorized(metadata: Metadata): GrpcError | undefined {
    if (this.#checkToken === undefined) return undefined;
    const value = metadata.get('authorization')[0];
    if (this.#checkToken(typeof value === 'string' ? value : undefined)) return undefined;
    return fail(status.UNAUTHENTICATED, 'ISTHMUS_UNAUTHENTICATED: missing or wrong bearer token (send metadata "authorization: Bearer <token>")');
  }

  #render(ref: ServiceRef, filters: EndpointFilters): Service | undefined {
    const entry = this.#deps.catalog.get(ref);
    return entry === undefined ? undefined : serviceToProto(entry, filters, this.#deps.splits?.get(ref));
  }

  #guard<T>(callback: sendUnaryData<T>, fn: () => T | GrpcError): void {
    let out: T | GrpcError;
    try {
      out = fn();
    } catch (err) {
      this.#deps.onError?.(err);
      callback(fail(status.INTERNAL, 'ISTHMUS_INTERNAL: internal error; the resolver log has the cause'));
      return;
    }
    if (typeof out === 'object' && out !== null && 'code' in out && 'details' in out) callback(out);
    else callback(null, out);
  }

  #handlers(): ResolverServiceServer {
    const { catalog } = this.#deps;
    return {
      listServices: (call, callback) => {
        this.#guard(callback, () => {
          const denied = this.#authorized(call.metadata);
          if (denied !== undefined) return denied;
          const ns = call.request.namespace;
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
          const service = this.#render(ref, filtersFromProto(call.request.filters));
          if (service === undefined) return fail(status.NOT_FOUND, `ISTHMUS_NOT_FOUND: service ${refKey(ref)} is not in the catalog`);
          return { service };
        });
      },
      watch: (call) => {
        const denied = this.#authorized(call.metadata);
        const ref = denied ?? refOf(call.request);
        if (isError(ref)) {
          call.emit('error', ref);
          return;
        }
        if (this.#hub.draining) {
          call.emit('error', fail(status.UNAVAILABLE, 'ISTHMUS_SHUTTING_DOWN: this resolver is shutting down; watch another replica'));
          return;
        }
        const filters = filtersFromProto(call.request.filters);
        serveWatch({ call, hub: this.#hub, catalog, ref, timing: this.#timing, render: (r) => this.#render(r, filters) });
      },
    };
  }
}
