/**
 * Isthmus HTTP resolver API (DESIGN §8). JSON everywhere; errors are `{ code, message }` with a
 * stable code from bridge/errors/errors.md. With `resolver.auth` set, every /v1 route needs
 * `Authorization: Bearer <token>` (401 ISTHMUS_UNAUTHENTICATED); GET routes also accept the console's session cookie (console-session.ts).
 * The probes and /metrics stay open.
 *
 * | method & path                          | answers                                                                 |
 * |----------------------------------------|-------------------------------------------------------------------------|
 * | GET /v1/services[?namespace=]          | `{ revision, services: [{ namespace, name, revision, endpoints, ready, registries }] }`; header X-Isthmus-Index = catalog revision |
 * | GET /v1/services/:ns/:name             | the catalog entry `{ ref, revision, ports, endpoints[], registries, metadata }`; header X-Isthmus-Index = entry revision; 404 ISTHMUS_NOT_FOUND when absent |
 * |   `?healthy=true`                      | only endpoints whose `ready` is true                                    |
 * |   `?origin=<registry>` `?zone=<zone>`  | only endpoints from that registry / in that zone (filters narrow endpoints only) |
 * |   `?mesh=true`                         | mesh mode (mesh.ts): one endpoint, the Kubernetes Service's DNS name `<svc>.<ns>.svc.<domain>` with the Service's ports, ready while any (filtered) instance is; metadata `isthmus.dev/mesh-host: "true"`. A service no Kubernetes registry lists or gets from a route keeps its instances |
 * |   `?index=N&wait=30s`                  | long-poll: blocks until the index passes N or wait elapses (default 30s, max 5m; `500ms`, `10s`, `2m`), then answers as above; a deleted service answers 404 with the deletion's index. index absent or 0 = immediate; an index ahead of the catalog (bridge restarted) = immediate |
 * | GET /v1/services/:ns/:name/events      | server-sent events: `event: snapshot` (id = index, data = entry JSON, same filters) now and after every change, bursts coalesced; `event: deleted` while absent; `: heartbeat` every 15s; honours Last-Event-ID |
 * | GET /v1/events                         | server-sent events for the whole catalog (the console's feed, catalog-events.ts): `event: catalog` (id = catalog revision, data = `{ revision, services: [{ namespace, name, revision, registries, origins: [{ registry, total, ready, draining }] }] }`) now and after changes, bursts coalesced; `event: status` (no id; data = the /v1/status summary plus `exports` (every target's last outcome and time) and `kinds` (registry id → kind)) now and within ~1 s of a change; `: heartbeat` every 15s; a Last-Event-ID equal to the catalog revision skips the first `catalog` event. Counted against maxWatchStreams; ends on drain |
 * | GET /v1/status                         | the engine's summary (sources, routes, queue, held, quarantined, errors) and `weights` (migration splits) |
 * | GET/PUT/DELETE /v1/weights[/:ns/:name] | runtime migration splits (weight-routes.ts)                             |
 * | GET /v1/status/:ns/:name               | `{ service: entry or null, explain, migration? }`: where each endpoint came from, what each sink did, the split and ServiceMigration |
 * | GET /livez                             | 200 `{ ok: true }` while the process serves                             |
 * | GET /readyz                            | 200 `{ ok: true, reasons: [] }`, or 503 with the reasons               |
 * | GET /metrics                           | Prometheus text; 404 when metrics are not configured                   |
 *
 * Errors: 400 ISTHMUS_USAGE (bad parameter), 401 ISTHMUS_UNAUTHENTICATED, 404 ISTHMUS_NOT_FOUND,
 * 503 ISTHMUS_SHUTTING_DOWN (a new watch while draining), 503 ISTHMUS_TOO_MANY_WATCHES (event
 * streams plus waiting long-polls at `maxWatchStreams`; with Retry-After), 500 ISTHMUS_INTERNAL.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Catalog, CatalogEntry } from '../catalog/index.ts';
import { BridgeError } from '../errors/index.ts';
import { refKey, type ServiceRef } from '../model/index.ts';
import type { StatusProvider } from '../sync/status.ts';
import { openCatalogEvents } from './catalog-events.ts';
import { consoleCatalog } from './console-view.ts';
import { openEventStream, type EventStreamTiming } from './event-stream.ts';
import type { StatusFeed } from './status-feed.ts';
import { parseFilters, parseLastEventId, parseWatch, usage, type EndpointFilters, type Query } from './params.ts';
import type { ResponseCache } from './response-cache.ts';
import type { MeshNaming } from './mesh.ts';
import { summarize, viewEntry } from './view.ts';
import type { Weights } from '../sync/index.ts';
import type { MigrationReport } from '../ports/index.ts';
import type { WatchHub } from './watch-hub.ts';

export const INDEX_HEADER = 'x-isthmus-index';
export const JSON_TYPE = 'application/json; charset=utf-8';

export interface RouteContext {
  readonly catalog: Catalog;
  readonly status: StatusProvider;
  readonly hub: WatchHub;
  readonly cache: ResponseCache;
  readonly timing: EventStreamTiming;
  /** The status summary as /v1/events streams it. */
  readonly statusFeed: StatusFeed;
  /** Migration splits, shown in /v1/status (the weight routes live in weight-routes.ts). */
  readonly weights?: Weights;
  /** The service's migration (ServiceMigration object, split in force, fresh status), in /v1/status/:ns/:name. */
  readonly migration?: (ref: ServiceRef) => MigrationReport;
  /** The hub's bound, named in the refusal. */
  readonly maxWatchStreams: number;
  /** Names for `?mesh=true` (mesh.ts); absent: mesh mode answers instances. */
  readonly mesh?: MeshNaming;
}

interface RefRoute {
  Params: { namespace: string; name: string };
  Querystring: Query;
}

function refOf(params: { namespace: string; name: string }): ServiceRef {
  if (params.namespace === '' || params.name === '') throw usage('namespace and name must not be empty');
  return { namespace: params.namespace, name: params.name };
}

function notFound(ref: ServiceRef): BridgeError {
  return new BridgeError('ISTHMUS_NOT_FOUND', `service ${refKey(ref)} is not in the catalog`);
}

function shuttingDown(): BridgeError {
  return new BridgeError('ISTHMUS_SHUTTING_DOWN', 'this resolver is shutting down; watch another replica');
}

/** Quiet time of the catalog-wide stream: a rollout's burst of changes becomes one event. */
const CATALOG_QUIET_MS = 200;

/** Seconds a refused watcher is asked to wait: long enough for streams to come and go. */
const RETRY_AFTER_SECONDS = '5';

/** Refuses a new long-poll or stream while the hub is draining or full; call right before watching. */
function admitWatch(hub: WatchHub, reply: FastifyReply, max: number): void {
  if (hub.draining) throw shuttingDown();
  if (!hub.full) return;
  reply.header('retry-after', RETRY_AFTER_SECONDS);
  throw new BridgeError('ISTHMUS_TOO_MANY_WATCHES', `this resolver serves at most ${max} watches (event streams and waiting long-polls); retry later or watch another replica`);
}

/** Aborts when the client hangs up, so a long-poll stops holding a watcher for nobody. */
function hangUpSignal(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => { ac.abort(); });
  return ac.signal;
}

/** The response cache's key for a service lookup (fast-lookup.ts reads the same slots). */
export function serviceKey(ref: ServiceRef, f: EndpointFilters): unknown[] {
  return ['service', ref.namespace, ref.name, f.healthy, f.origin ?? null, f.zone ?? null, f.mesh];
}

/** The /v1 routes; registered inside their own plugin so the auth hook covers exactly these. */
export function registerV1Routes(app: FastifyInstance, ctx: RouteContext): void {
  const { catalog, hub, cache, status } = ctx;

  const entryKey = (entry: CatalogEntry, f: EndpointFilters): unknown[] => serviceKey(entry.ref, f);
  const entryBody = (entry: CatalogEntry, f: EndpointFilters): string =>
    cache.body(entryKey(entry, f), entry.revision, () => JSON.stringify(viewEntry(entry, f, ctx.mesh)));
  const entryBytes = (entry: CatalogEntry, f: EndpointFilters): Buffer =>
    cache.bytes(entryKey(entry, f), entry.revision, () => JSON.stringify(viewEntry(entry, f, ctx.mesh)));

  const answerService = (reply: FastifyReply, ref: ServiceRef, f: EndpointFilters): FastifyReply => {
    const entry = catalog.get(ref);
    reply.header(INDEX_HEADER, String(entry?.revision ?? hub.index(ref)));
    if (entry === undefined) throw notFound(ref);
    return reply.type(JSON_TYPE).send(entryBytes(entry, f));
  };

  app.get<{ Querystring: Query }>('/services', (req, reply) => {
    const ns = req.query.namespace;
    if (Array.isArray(ns)) throw usage('query parameter namespace was given more than once; give it once');
    const namespace = typeof ns === 'string' && ns !== '' ? ns : undefined;
    const revision = catalog.revision();
    const body = cache.bytes(['list', namespace ?? null], revision, () => {
      const entries = catalog.list().filter((e) => namespace === undefined || e.ref.namespace === namespace);
      return JSON.stringify({ revision, services: entries.map(summarize) });
    });
    return reply.header(INDEX_HEADER, String(revision)).type(JSON_TYPE).send(body);
  });

  const longPoll = async (reply: FastifyReply, ref: ServiceRef, f: EndpointFilters, watch: { index: number; waitMs: number }): Promise<FastifyReply> => {
    admitWatch(hub, reply, ctx.maxWatchStreams);
    const outcome = await hub.wait(ref, watch.index, watch.waitMs, hangUpSignal(reply));
    // Answer a drained poll with the current state and send the client to another replica.
    if (outcome === 'drained') reply.header('connection', 'close');
    return answerService(reply, ref, f);
  };

  // Synchronous unless it must wait: the hot cached lookup costs no promise and no extra tick.
  app.get<RefRoute>('/services/:namespace/:name', (req, reply) => {
    const ref = refOf(req.params);
    const filters = parseFilters(req.query);
    const watch = parseWatch(req.query);
    if (watch !== undefined && !hub.changedSince(ref, watch.index)) return longPoll(reply, ref, filters, watch);
    return answerService(reply, ref, filters);
  });

  // No HEAD twin: it would open a stream whose body nobody reads.
  app.get<RefRoute>('/services/:namespace/:name/events', { exposeHeadRoute: false }, (req, reply) => {
    const ref = refOf(req.params);
    const filters = parseFilters(req.query);
    admitWatch(hub, reply, ctx.maxWatchStreams);
    const stream = openEventStream({
      hub,
      catalog,
      ref,
      lastEventId: parseLastEventId(req.headers['last-event-id']),
      render: (entry) => entryBody(entry, filters),
      timing: ctx.timing,
    });
    return reply
      .header('cache-control', 'no-cache')
      // nginx and similar proxies buffer responses unless told not to, which stalls the stream.
      .header('x-accel-buffering', 'no')
      .type('text/event-stream; charset=utf-8')
      .send(stream);
  });

  app.get('/events', { exposeHeadRoute: false }, (req, reply) => {
    admitWatch(hub, reply, ctx.maxWatchStreams);
    const stream = openCatalogEvents({
      hub,
      catalog,
      status: ctx.statusFeed,
      lastEventId: parseLastEventId(req.headers['last-event-id']),
      renderCatalog: () => {
        const revision = catalog.revision();
        return cache.body(['console-catalog'], revision, () => JSON.stringify(consoleCatalog(revision, catalog.list())));
      },
      // The whole catalog is heavier to send than one service: a longer quiet time, same bound.
      timing: { ...ctx.timing, quietMs: Math.max(ctx.timing.quietMs, CATALOG_QUIET_MS) },
    });
    return reply
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .type('text/event-stream; charset=utf-8')
      .send(stream);
  });

  app.get('/status', (_req, reply) =>
    reply.type(JSON_TYPE).send(JSON.stringify(ctx.weights === undefined ? status.summary() : { ...status.summary(), weights: ctx.weights.all() })),
  );

  app.get<RefRoute>('/status/:namespace/:name', (req, reply) => {
    const ref = refOf(req.params);
    const split = ctx.weights?.get(ref);
    const migration = ctx.migration?.(ref) ?? (split === undefined ? undefined : { split, splitFrom: ctx.weights?.origin(ref) });
    const body = { service: catalog.get(ref) ?? null, explain: status.explain(ref), ...(migration === undefined ? {} : { migration }) };
    return reply.type(JSON_TYPE).send(JSON.stringify(body));
  });
}

export interface OpsContext {
  readonly health: () => { ok: boolean; reasons: string[] };
  readonly metrics?: { render(): Promise<string>; contentType: string };
}

/** Probes and metrics: never behind auth, because kubelet and Prometheus carry no token. */
export function registerOpsRoutes(app: FastifyInstance, ctx: OpsContext): void {
  app.get('/livez', (_req, reply) => reply.type(JSON_TYPE).send('{"ok":true}'));

  app.get('/readyz', (_req, reply) => {
    const { ok, reasons } = ctx.health();
    return reply.code(ok ? 200 : 503).type(JSON_TYPE).send(JSON.stringify({ ok, reasons }));
  });

  app.get('/metrics', async (_req, reply) => {
    const { metrics } = ctx;
    if (metrics === undefined) throw new BridgeError('ISTHMUS_NOT_FOUND', 'metrics are not enabled on this resolver');
    const text = await metrics.render();
    return reply.type(metrics.contentType).send(text);
  });
}
