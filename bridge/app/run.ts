import { Catalog } from '../catalog/index.ts';
import { close, createHttpResolver, GrpcResolver, listen, readTlsFiles } from '../resolver/index.ts';
import type { Config, Logger } from '../runtime/index.ts';
import { childLogger, createHealth, createMetrics, flushLogger, installShutdown, readSecretFile, standardSteps } from '../runtime/index.ts';
import { applySplit, Engine, Weights } from '../sync/index.ts';
import { buildParts, closeParts, type AdapterKinds } from './build.ts';

export interface RunOptions {
  readonly logger: Logger;
  /** Resolves with the resolver's URL once serving (tests, the demo). */
  readonly onListening?: (url: string) => void;
  /** Resolves with the gRPC resolver's port once serving (tests, the demo). */
  readonly onGrpcListening?: (port: number) => void;
  /** Stop without a signal (tests, the demo). */
  readonly signal?: AbortSignal;
}

/**
 * Runs the bridge until SIGTERM/SIGINT (or `signal`): sources, sinks, catalog, engine and the
 * HTTP resolver, then the DESIGN §9 shutdown sequence. Shutdown never deregisters anything.
 */
export async function runBridge(config: Config, kinds: AdapterKinds, options: RunOptions): Promise<void> {
  const log = options.logger;
  const parts = buildParts(config, kinds, (registry) => childLogger(log, { component: 'adapter', registry }));
  const abort = new AbortController();
  for (const s of parts.sources) await s.start(abort.signal);
  for (const s of parts.sinks) await s.start(abort.signal);

  // At most one registry hosts the election (config validation cannot see adapter internals,
  // so a second one is reported here and ignored).
  const electors = [...parts.adapters.entries()].filter(([, a]) => a.leader !== undefined);
  if (electors.length > 1) log.warn({ registries: electors.map(([id]) => id) }, 'leader election enabled on several registries; using the first');
  const leader = electors[0]?.[1].leader;
  leader?.start(abort.signal);

  const weights = new Weights(config.weights);
  const metrics = createMetrics();
  const engine = new Engine({
    bridgeId: config.bridge.id,
    sources: parts.sources,
    sinks: parts.sinks,
    routes: config.routes,
    workers: config.sync.workers,
    quietMs: config.sync.quietMs,
    maxDelayMs: config.sync.maxDelayMs,
    resyncMs: config.sync.resyncSeconds * 1000,
    resyncJitter: config.sync.resyncJitter,
    retry: { baseMs: config.sync.retryBaseMs, maxMs: config.sync.retryMaxMs, perSecond: config.sync.retryPerSecond },
    metrics: metrics.sync,
    logger: childLogger(log, { component: 'engine' }),
    weights,
    ...(leader === undefined ? {} : { isWriter: () => leader.isLeader() }),
  });
  // Resolver answers carry the migration split in their weights, so SDKs need no second lookup.
  const catalog = new Catalog(parts.sources, { shape: (ref, endpoints) => applySplit(endpoints, weights.get(ref)) });
  const offWeights = weights.onChange((ref) => { catalog.refresh(ref); });
  catalog.start();
  engine.start();

  const health = createHealth(parts.sources);
  const tokenFile = config.resolver.auth?.tokenFile;
  const auth = tokenFile === undefined ? {} : { auth: { token: readSecretFile(tokenFile) } };
  const tls = config.resolver.tls === undefined ? {} : { tls: readTlsFiles(config.resolver.tls) };
  const http = createHttpResolver({
    catalog,
    status: engine,
    health: () => { const r = health.readiness(); return { ok: r.ok, reasons: [...r.reasons] }; },
    metrics,
    logger: childLogger(log, { component: 'resolver' }),
    ...auth,
    ...tls,
    weights,
  });
  const url = await listen(http, config.resolver.http);
  const grpc = config.resolver.grpc.enabled
    ? new GrpcResolver({
        catalog,
        splits: weights,
        ...auth,
        ...tls,
        onError: (err) => { log.error({ err }, 'gRPC resolver watcher failed'); },
      })
    : undefined;
  if (grpc !== undefined) {
    const port = await grpc.listen(config.resolver.grpc);
    log.info({ port }, 'gRPC resolver listening');
    options.onGrpcListening?.(port);
  }
  log.info({ url, routes: config.routes.map((r) => r.id) }, 'isthmus running');
  options.onListening?.(url);

  const shutdown = installShutdown({
    logger: log,
    steps: standardSteps({
      failReadiness: () => { health.markShuttingDown(); },
      stopResolver: async () => {
        grpc?.drain();
        await Promise.all([close(http), grpc?.close()]);
      },
      stopEngine: async () => {
        await engine.stop();
        offWeights();
        catalog.stop();
      },
      ...(leader === undefined ? {} : { releaseLease: () => leader.release() }),
      flushLogs: () => flushLogger(log),
    }),
  });
  options.signal?.addEventListener('abort', () => { void shutdown.trigger('stop requested'); }, { once: true });
  await shutdown.done;
  // Watches end only after the lease is released: a follower keeps a warm cache to the last.
  abort.abort();
  await closeParts(parts);
  shutdown.dispose();
}
