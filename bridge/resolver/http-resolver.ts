import type { MeshNaming } from './mesh.ts';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/index.ts';
import { BridgeError, type ErrorCode } from '../errors/index.ts';
import type { StatusProvider } from '../sync/status.ts';
import { bearerChecker } from './auth.ts';
import { consoleExports, type ConsoleStatus } from './console-view.ts';
import { registerConsoleRoutes } from './console-routes.ts';
import { consoleSession } from './console-session.ts';
import { fastLookup } from './fast-lookup.ts';
import { StatusFeed } from './status-feed.ts';
import { DEFAULT_EVENT_TIMING, type EventStreamTiming } from './event-stream.ts';
import { MAX_NAME_LENGTH, watchLimits, type WatchLimits } from './limits.ts';
import { ResponseCache, type ResponseCacheOptions } from './response-cache.ts';
import { registerOpsRoutes, registerV1Routes } from './routes.ts';
import type { TlsFiles } from './tls.ts';
import { RequestCounts } from './traffic.ts';
import { WatchHub } from './watch-hub.ts';
import { registerWeightRoutes } from './weight-routes.ts';
import type { Weights } from '../sync/index.ts';
import type { ServiceRef } from '../model/index.ts';
import type { MigrationReport, MigrationStore } from '../ports/index.ts';

/** The resolver's window on ServiceMigration objects. */
export interface MigrationAccess {
  readonly store: Pick<MigrationStore, 'available' | 'setSplit'>;
  report(ref: ServiceRef): MigrationReport;
}

export interface HttpResolverDeps {
  readonly catalog: Catalog;
  readonly status: StatusProvider;
  /** Readiness: the runtime says false while sources sync and once shutdown begins. */
  readonly health: () => { ok: boolean; reasons: string[] };
  readonly metrics?: { render(): Promise<string>; contentType: string };
  /** Errors and 5xx only: per-request logs would dominate the CPU at 20k lookups/s. */
  readonly logger?: Logger | false;
  readonly auth?: { readonly token: string };
  /** Serve HTTPS instead of HTTP. */
  readonly tls?: TlsFiles;
  /** Migration splits: adds /v1/weights (writes only with `auth`) and shows them in /v1/status. */
  readonly weights?: Weights;
  /**
   * ServiceMigration objects: /v1/weights writes them, /v1/status/:ns/:name shows the service's
   * migration. Absent without a Kubernetes registry.
   */
  readonly migrations?: MigrationAccess;
  /** Registry id → kind, so the console can tell pods (kubernetes) from VM registries. */
  readonly registryKinds?: Readonly<Record<string, string>>;
  /** Mesh names for `?mesh=true` (mesh.ts). */
  readonly mesh?: MeshNaming;
}

/** Knobs with production defaults; tests shorten them. */
export interface HttpResolverOptions {
  readonly events?: Partial<EventStreamTiming>;
  readonly cache?: ResponseCacheOptions;
  readonly maxTombstones?: number;
  /** The same object the gRPC resolver takes; HTTP applies `maxWatchStreams` (streams plus long-polls). */
  readonly limits?: Partial<WatchLimits>;
  /** How often the console's status feed renders the summary to look for a change. */
  readonly statusIntervalMs?: number;
}

/**
 * Everything the console's status event shows, small: the per-target list stands in as its size
 * and latest pass time (every pass records one, so a change of any outcome moves it). A reachable
 * source's lastContact moves with every answer it gets; it counts only once the source is
 * unreachable, when it says since when.
 */
function statusFingerprint(deps: HttpResolverDeps): string {
  let latest = 0;
  let n = 0;
  for (const t of deps.status.targets?.() ?? []) {
    n++;
    if (t.at > latest) latest = t.at;
  }
  const { sources, ...rest } = deps.status.summary();
  const health = sources.map((s) => {
    const { lastContact, ...h } = s.health;
    return [s.id, s.synced, s.services, h, h.reachable ? 0 : lastContact];
  });
  return JSON.stringify([rest, health, n, latest, deps.weights?.all() ?? null]);
}

/** The console shows status within about this long of a change, without any client polling. */
const DEFAULT_STATUS_INTERVAL_MS = 1_000;

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  ISTHMUS_USAGE: 400,
  ISTHMUS_UNKNOWN_REGISTRY: 400,
  ISTHMUS_UNAUTHENTICATED: 401,
  ISTHMUS_FORBIDDEN: 403,
  ISTHMUS_NOT_FOUND: 404,
  ISTHMUS_SHUTTING_DOWN: 503,
  ISTHMUS_TOO_MANY_WATCHES: 503,
  ISTHMUS_MIGRATION_UNAVAILABLE: 503,
  ISTHMUS_REGISTRY_UNREACHABLE: 503,
};

/** Refusals that are load or lifecycle, not faults: one log line each would flood the log. */
const QUIET_5XX: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['ISTHMUS_SHUTTING_DOWN', 'ISTHMUS_TOO_MANY_WATCHES']);

interface Internals {
  readonly hub: WatchHub;
  readonly cache: ResponseCache;
  readonly counts: RequestCounts;
}

/** What each resolver keeps beside its instance, so drain(), close() and stats need only the instance. */
const internals = new WeakMap<FastifyInstance, Internals>();

/** Gauges for the runtime's metrics (and for tests to see a watcher arrive or leave). */
export interface ResolverStats {
  /** Open long-polls plus open event streams. */
  readonly watchers: number;
  /** `peeked`: the hits answered before the router (fast-lookup.ts). */
  readonly cache: { readonly hits: number; readonly misses: number; readonly keys: number; readonly peeked: number };
  /** Requests since start (probes and /metrics included); the failed ones by class. */
  readonly requests: Readonly<RequestCounts>;
}

function sendError(reply: FastifyReply, status: number, code: ErrorCode, message: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify({ code, message }));
}

/**
 * Builds the HTTP resolver over the catalog (DESIGN §8; API table in routes.ts). It answers from
 * the in-memory catalog only, so every replica serves, leader or not. Call `listen` to serve and
 * `close` (which drains first) to stop; the instance also drains itself in fastify's preClose.
 */
export function createHttpResolver(deps: HttpResolverDeps, options: HttpResolverOptions = {}): FastifyInstance {
  // Typed as fastify's logger so the instance keeps the default generics callers expect.
  const log: FastifyBaseLogger | undefined =
    deps.logger === undefined || deps.logger === false ? undefined : deps.logger.child({ component: 'resolver' });
  const common = {
    ...(log === undefined ? { logger: false } : { loggerInstance: log }),
    logController: new LogController({ disableRequestLogging: true }),
    // Dubbo interface names (`org.example.foo.v2.OrderService:1.0.0:group`) exceed the default 100.
    routerOptions: { maxParamLength: MAX_NAME_LENGTH },
  };
  const cache = new ResponseCache(options.cache);
  const checkToken = deps.auth === undefined ? undefined : bearerChecker(deps.auth.token);
  const session = deps.auth === undefined ? undefined : consoleSession(deps.auth.token, { secure: deps.tls !== undefined });
  /** A read of /v1 (GET or HEAD) is let in with the token or the console's session cookie. */
  const mayRead = (headers: IncomingHttpHeaders): boolean =>
    checkToken === undefined || checkToken(headers.authorization) || session?.cookieValid(headers.cookie) === true;
  const lookup = fastLookup({ catalog: deps.catalog, cache, mayRead: (req) => mayRead(req.headers) });
  // Once closing, fastify answers every request 503 with Connection: close (load shedding, so
  // clients move to another replica); a request racing the close must get that too.
  let closing = false;
  const fast = (req: IncomingMessage, res: ServerResponse): boolean => !closing && lookup(req, res);
  // Routes and hooks are the same over HTTPS; only the server type differs, which nothing here reads.
  const app: FastifyInstance = Fastify({
    ...common,
    ...(deps.tls === undefined ? {} : { https: { cert: deps.tls.cert, key: deps.tls.key } }),
    serverFactory: (handler, opts) => serverWithFastPath(handler, opts, fast),
  });

  const limits = watchLimits(options.limits);
  const hub = new WatchHub(deps.catalog, {
    ...(options.maxTombstones === undefined ? {} : { maxTombstones: options.maxTombstones }),
    maxWatchers: limits.maxWatchStreams,
    onError: (err) => { app.log.error({ err }, 'resolver watcher failed'); },
  });
  const timing: EventStreamTiming = { ...DEFAULT_EVENT_TIMING, ...options.events };
  const statusFeed = new StatusFeed({
    intervalMs: options.statusIntervalMs ?? DEFAULT_STATUS_INTERVAL_MS,
    render: () => {
      const body: ConsoleStatus = {
        ...deps.status.summary(),
        exports: consoleExports(deps.status.targets?.() ?? []),
        kinds: deps.registryKinds ?? {},
        ...(deps.weights === undefined ? {} : { weights: deps.weights.all() }),
      };
      return JSON.stringify(body);
    },
    fingerprint: () => statusFingerprint(deps),
  });
  hub.start();
  const counts = new RequestCounts();
  internals.set(app, { hub, cache, counts });
  // A second listener on the server's own event, not a fastify hook: hooks cost a promise-aware
  // dispatch per request, this costs one call. Failures are classed where they are answered below.
  app.server.on('request', () => { counts.requests++; });

  app.setErrorHandler((err: FastifyError | BridgeError, req, reply) => {
    if (err instanceof BridgeError) {
      const status = STATUS_OF[err.code] ?? 500;
      counts.failedHttp(status);
      if (status >= 500 && !QUIET_5XX.has(err.code)) app.log.error({ err }, 'resolver request failed');
      return sendError(reply, status, err.code, err.message);
    }
    // fastify's own client errors (bad URL encoding, oversized parameter…) keep their status.
    const status = err.statusCode ?? 500;
    counts.failedHttp(status);
    if (status >= 400 && status < 500) return sendError(reply, status, 'ISTHMUS_USAGE', err.message);
    // The cause stays in the log: an internal message can name files, hosts or registry details.
    app.log.error({ err, reqId: req.id }, 'resolver request failed');
    return sendError(reply, 500, 'ISTHMUS_INTERNAL', `internal error in request ${req.id}; the resolver log has the cause`);
  });

  app.setNotFoundHandler((req, reply) => {
    counts.failedHttp(404);
    return sendError(reply, 404, 'ISTHMUS_NOT_FOUND', `no resolver route ${req.method} ${req.url.split('?')[0] ?? ''}`);
  });

  registerOpsRoutes(app, { health: deps.health, ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }) });

  registerConsoleRoutes(app, session === undefined ? {} : { session });
  void app.register(
    (v1, _opts, done) => {
      if (checkToken !== undefined) {
        v1.addHook('onRequest', (req, reply, next) => {
          // The console's session cookie reads; changes (PUT/DELETE weights) need the token itself.
          const reads = req.method === 'GET' || req.method === 'HEAD';
          if (reads ? mayRead(req.headers) : checkToken(req.headers.authorization)) {
            next();
            return;
          }
          counts.failedHttp(401);
          reply.header('www-authenticate', 'Bearer realm="isthmus"');
          sendError(reply, 401, 'ISTHMUS_UNAUTHENTICATED', 'missing or wrong bearer token');
        });
      }
      const { catalog, weights } = deps;
      const migrations = deps.migrations;
      registerV1Routes(v1, {
        catalog, status: deps.status, hub, cache, timing, statusFeed, maxWatchStreams: limits.maxWatchStreams,
        ...(deps.mesh === undefined ? {} : { mesh: deps.mesh }),
        ...(weights === undefined ? {} : { weights }),
        ...(migrations === undefined ? {} : { migration: (ref) => migrations.report(ref) }),
      });
      if (weights !== undefined) registerWeightRoutes(v1, { weights, catalog, writable: checkToken !== undefined, ...(migrations === undefined ? {} : { migrations: migrations.store }) });
      done();
    },
    { prefix: '/v1' },
  );

  // preClose runs before the server stops accepting: open long-polls answer and streams end,
  // otherwise server.close() would wait for them for up to five minutes.
  app.addHook('preClose', (done) => {
    closing = true;
    hub.drain();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    statusFeed.stop();
    hub.stop();
    cache.close();
    done();
  });
  return app;
}

/**
 * The server fastify would make (fastify's own defaults for keep-alive and timeouts, as in its
 * getServerInstance), with the cached-lookup fast path in front of its handler.
 */
function serverWithFastPath(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } },
  fast: (req: IncomingMessage, res: ServerResponse) => boolean,
): Server {
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (!fast(req, res)) handler(req, res);
  };
  const server = opts.https === undefined ? createServer(serve) : createHttpsServer(opts.https, serve);
  if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
  if (opts.requestTimeout !== undefined) server.requestTimeout = opts.requestTimeout;
  server.setTimeout(opts.connectionTimeout ?? 0);
  if (opts.maxRequestsPerSocket !== undefined && opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
  return server;
}

/** Starts serving; resolves with the bound address (port 0 picks a free port). */
export async function listen(app: FastifyInstance, where: { port: number; host?: string }): Promise<string> {
  return app.listen({ port: where.port, host: where.host ?? '0.0.0.0' });
}

/**
 * Ends every open long-poll (each answers its current state with `Connection: close`) and event
 * stream, and refuses new watches with 503 ISTHMUS_SHUTTING_DOWN; plain lookups keep working.
 * The shutdown sequence calls it after failing readiness and before closing. Idempotent.
 */
export function drain(app: FastifyInstance): void {
  internals.get(app)?.hub.drain();
}

export function resolverStats(app: FastifyInstance): ResolverStats {
  const it = internals.get(app);
  if (it === undefined) return { watchers: 0, cache: { hits: 0, misses: 0, keys: 0, peeked: 0 }, requests: new RequestCounts() };
  return { watchers: it.hub.watcherCount(), cache: it.cache.stats(), requests: it.counts };
}

/** Drains, then closes the server once in-flight requests have finished. */
export async function close(app: FastifyInstance): Promise<void> {
  drain(app);
  await app.close();
}
