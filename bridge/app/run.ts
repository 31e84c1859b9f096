import { Catalog } from '../catalog/index.ts';
import { close, createHttpResolver, GrpcResolver, listen, readTlsFiles, resolverStats, watchLimitsFromConfig } from '../resolver/index.ts';
import type { LeaderElection } from '../ports/index.ts';
import type { Config, Logger, SignalSource } from '../runtime/index.ts';
import { childLogger, createHealth, createMetrics, flushLogger, installShutdown, readSecretFile, standardSteps } from '../runtime/index.ts';
import { applySplit, Engine, Weights } from '../sync/index.ts';
import { buildParts, closeParts, partsAbort, type AdapterKinds } from './build.ts';
import { linger, lingerMs, onLeadershipChange } from './handover.ts';
import { meshNamingOf } from './mesh-naming.ts';
import { startMigrations } from './migrations.ts';

export interface RunOptions {
  readonly logger: Logger;
  /** Resolves with the resolver's URL once serving (tests, the demo). */
  readonly onListening?: (url: string) => void;
  /** Resolves with the gRPC resolver's port once serving (tests, the demo). */
  readonly onGrpcListening?: (port: number) => void;
  /** Stop without a signal (tests, the demo); already aborted = stop as soon as started. */
  readonly signal?: AbortSignal;
  /** Where SIGTERM/SIGINT come from; the process when absent (the CLI passes its relay). */
  readonly signals?: SignalSource;
}

/**
 * Runs the bridge until SIGTERM/SIGINT (or `signal`): sources, sinks, catalog, engine and the
 * HTTP resolver, then the DESIGN §9 shutdown sequence. Shutdown never deregisters anything.
 */
export async function runBridge(config: Config, kinds: AdapterKinds, options: RunOptions): Promise<void> {
  const log = options.logger;
  // Files the resolver needs are read before anything starts: a bad one is a config mistake
  // (exit 2), and failing after sources and the engine started would leave half a bridge running.
  const tokenFile = config.resolver.auth?.tokenFile;
  const auth = tokenFile === undefined ? {} : { auth: { token: readSecretFile(tokenFile) } };
  const tls = config.resolver.tls === undefined ? {} : { tls: readTlsFiles(config.resolver.tls) };
  const parts = buildParts(config, kinds, (registry) => childLogger(log, { component: 'adapter', registry }));
  const abort = partsAbort();
  for (const s of parts.sources) await s.start(abort.signal);
  for (const s of parts.sinks) await s.start(abort.signal);

  // At most one registry hosts the election (config validation cannot see adapter internals,
  // so a second one is reported here and ignored).
  const electors = [...parts.adapters.entries()].filter(([, a]) => a.leader !== undefined);
  if (electors.length > 1) log.warn({ registries: electors.map(([id]) => id) }, 'leader election enabled on several registries; using the first');
  const leader = electors[0]?.[1].leader;
  // The elector stops at release, before the watches: during the hand-over linger it must not
  // take the lease it has just released back.
  const electorAbort = new AbortController();
  leader?.start(electorAbort.signal);

  const weights = new Weights(config.weights, { registries: Object.keys(config.registries) });
  const migrations = await startMigrations(parts, config, weights, abort.signal, childLogger(log, { component: 'migrations' }));
  const limits = watchLimitsFromConfig(config.resolver.limits);
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
  migrations?.report({ catalog, engine, isLeader: () => leader?.isLeader() ?? true });
  const offLeadership = leader === undefined ? undefined : onLeadershipChange(leader, (leading) => {
    metrics.state.leadershipChanged();
    if (!leading) return;
    for (const sink of parts.sinks) sink.adopt?.();
    void engine.resync().catch((err: unknown) => { log.warn({ err }, 'resync on becoming the leader failed; the periodic one retries'); });
  });

  metrics.trackQuarantine(() => engine.summary().quarantined);
  metrics.state.track({
    leader: () => leader?.isLeader() ?? true,
    sources: () => parts.sources,
    held: () => engine.summary().held,
  });
  const health = createHealth(parts.sources);
  const mesh = meshNamingOf(config, parts.sources);
  const http = createHttpResolver({
    catalog,
    status: engine,
    health: () => { const r = health.readiness(); return { ok: r.ok, reasons: [...r.reasons] }; },
    metrics,
    logger: childLogger(log, { component: 'resolver' }),
    ...auth,
    ...tls,
    weights,
    ...(migrations === undefined ? {} : { migrations: migrations.access }),
    registryKinds: Object.fromEntries(Object.entries(config.registries).map(([id, r]) => [id, r.kind])),
    mesh,
  }, { limits });
  metrics.resolver.track('http', () => resolverStats(http));
  const url = await listen(http, config.resolver.http);
  const grpc = config.resolver.grpc.enabled
    ? new GrpcResolver({
        catalog,
        splits: weights,
        ...auth,
        ...tls,
        limits,
        mesh,
        onSlowConsumer: (ref) => { log.warn({ service: `${ref.namespace}/${ref.name}` }, 'gRPC Watch client stopped reading; stream reset (slow consumer)'); },
        onError: (err) => { log.error({ err }, 'gRPC resolver watcher failed'); },
      })
    : undefined;
  if (grpc !== undefined) {
    metrics.resolver.track('grpc', () => grpc.stats());
    const port = await grpc.listen(config.resolver.grpc);
    log.info({ port }, 'gRPC resolver listening');
    options.onGrpcListening?.(port);
  }
  log.info({ url, routes: config.routes.map((r) => r.id) }, 'isthmus running');
  options.onListening?.(url);

  const shutdown = installShutdown({
    logger: log,
    ...(options.signals === undefined ? {} : { signals: options.signals }),
    steps: standardSteps({
      failReadiness: () => { health.markShuttingDown(); },
      stopResolver: async () => {
        grpc?.drain();
        await Promise.all([close(http), grpc?.close()]);
      },
      stopEngine: async () => {
        offLeadership?.();
        await engine.stop();
        migrations?.stop();
        offWeights();
        catalog.stop();
      },
      ...(leader === undefined ? {} : { releaseLease: () => releaseAndLinger(leader) }),
      flushLogs: () => flushLogger(log),
    }),
  });

  /**
   * If we led, our connections stay open for a while after the release: the follower takes the
   * lease at its next retry and re-registers everything, and ephemeral records (Nacos instances,
   * Dubbo znodes) that die with our connection stay listed until its own are. We write nothing
   * meanwhile: the engine has stopped.
   */
  async function releaseAndLinger(elector: LeaderElection): Promise<void> {
    const wasLeader = elector.isLeader();
    electorAbort.abort();
    await elector.release();
    if (!wasLeader) return;
    const ms = lingerMs(elector);
    log.info({ lingerMs: ms }, 'lease released; keeping registry connections open for the new leader to take over');
    await linger(ms);
    log.info({ lingerMs: ms }, 'hand-over linger over; closing registry connections');
  }
  // A stop asked for while starting has already fired: addEventListener would never call back.
  if (options.signal?.aborted === true) void shutdown.trigger('stop requested');
  else options.signal?.addEventListener('abort', () => { void shutdown.trigger('stop requested'); }, { once: true });
  await shutdown.done;
  // Watches end only after the lease is released: a follower keeps a warm cache to the last.
  electorAbort.abort();
  abort.abort();
  await closeParts(parts);
  shutdown.dispose();
}
