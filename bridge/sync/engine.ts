import type { RegistryId, Route, RoutePolicy, ServiceRef } from '../model/index.ts';
import { describeError, isTerminal } from '../errors/index.ts';
import type { Sink, Source } from '../ports/index.ts';
import { EngineBook } from './engine-book.ts';
import type { EngineLogger } from './logger-port.ts';
import { SILENT_LOGGER } from './logger-port.ts';
import { RetryLimiter, type RetryPolicy } from './rate-limiter.ts';
import { reconcile, type ReconcileResult } from './reconciler.ts';
import type { BridgeStatus, ServiceExplain, StatusProvider } from './status.ts';
import { NO_METRICS, type SyncMetrics } from './sync-metrics.ts';
import { ContributorIndex, parseTargetKey, targetKey, type Target } from './target.ts';
import type { Weights } from './weights.ts';
import { WorkQueue } from './work-queue.ts';

export interface EngineOptions {
  readonly bridgeId: string;
  readonly sources: readonly Source[];
  readonly sinks: readonly Sink[];
  readonly routes: readonly Route[];
  readonly workers?: number;
  readonly quietMs?: number;
  readonly maxDelayMs?: number;
  readonly resyncMs?: number;
  /** Fraction of resyncMs by which each resync is randomly moved, so replicas do not align. */
  readonly resyncJitter?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly metrics?: SyncMetrics;
  readonly logger?: EngineLogger;
  /** Whether this replica may write (leader election); read before every write. */
  readonly isWriter?: () => boolean;
  /** Migration splits; a change re-checks every target (they are rare and diffs are cheap). */
  readonly weights?: Weights;
}

/**
 * The level-triggered sync engine: source nudges → debounced work queue → workers reconcile one
 * (sink, service) target at a time. Nothing is reconciled into a sink until every source feeding
 * it has synced and the sink has listed what it owns; a jittered periodic resync re-checks every
 * target, including owned records whose source is gone (garbage collection).
 */
export class Engine implements StatusProvider {
  readonly #o: EngineOptions;
  readonly #sources: ReadonlyMap<RegistryId, Source>;
  readonly #sinks: ReadonlyMap<RegistryId, Sink>;
  readonly #routesBySink = new Map<RegistryId, Route[]>();
  readonly #index = new ContributorIndex();
  readonly #queue: WorkQueue;
  readonly #limiter: RetryLimiter;
  readonly #metrics: SyncMetrics;
  readonly #log: EngineLogger;
  readonly #book: EngineBook;
  readonly #readySinks = new Set<RegistryId>();
  readonly #hadKeys = new Set<RegistryId>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #workers: Promise<void>[] = [];
  #busy = 0;
  #wasWriter = true;
  #gateTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#sources = new Map(options.sources.map((s) => [s.id, s]));
    this.#sinks = new Map(options.sinks.map((s) => [s.id, s]));
    for (const r of options.routes) {
      const list = this.#routesBySink.get(r.to) ?? [];
      list.push(r);
      this.#routesBySink.set(r.to, list);
    }
    this.#queue = new WorkQueue({ quietMs: options.quietMs ?? 25, maxDelayMs: options.maxDelayMs ?? 1000 });
    this.#limiter = new RetryLimiter({ baseMs: 200, maxMs: 60_000, perSecond: 50, burst: 500, ...options.retry });
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#book = new EngineBook(options.bridgeId, options.routes, this.#sources);
  }

  /** Subscribes to the sources and starts the workers. Sources and sinks are started by the caller. */
  start(): void {
    for (const source of this.#sources.values()) {
      this.#unsubscribe.push(source.onChange((ref) => { this.#nudge(source.id, ref); }));
    }
    for (const sink of this.#sinks.values()) {
      const off = sink.onReset?.(() => {
        this.#log.warn({ sink: sink.id }, 'registry lost our records; resyncing this sink now');
        this.resync().catch((err: unknown) => { this.#log.warn({ err: describeError(err) }, 'resync after reset failed; the periodic one retries'); });
      });
      if (off !== undefined) this.#unsubscribe.push(off);
    }
    const offWeights = this.#o.weights?.onChange(() => {
      for (const source of this.#sources.values()) for (const ref of source.keys()) this.#nudge(source.id, ref);
    });
    if (offWeights !== undefined) this.#unsubscribe.push(offWeights);
    for (let i = 0; i < (this.#o.workers ?? 8); i++) this.#workers.push(this.#work());
    this.#gateTimer = setInterval(() => { void this.#openGates(); }, 100);
    this.#gateTimer.unref();
    void this.#openGates();
    this.#scheduleResync();
  }

  /** Stops taking work and waits for reconciles in flight; never deletes or deregisters anything. */
  async stop(): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    clearInterval(this.#gateTimer);
    clearTimeout(this.#resyncTimer);
    this.#queue.shutdown();
    await Promise.all(this.#workers);
  }

  /** True once every sink has opened (its sources synced, its owned records listed). */
  synced(): boolean {
    return this.#readySinks.size === this.#sinks.size;
  }

  /** Resolves when every sink is open and no work is queued or running (tests, bench, plan). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Re-checks every target now: every source key and every owned record of every open sink. */
  async resync(): Promise<void> {
    for (const source of this.#sources.values()) {
      for (const ref of source.keys()) this.#nudge(source.id, ref);
    }
    for (const sinkId of this.#readySinks) {
      try {
        await this.#enqueueOwned(sinkId);
      } catch (err) {
        // One registry being down must not stop the others' garbage collection; the next resync retries.
        this.#log.warn({ sink: sinkId, err: describeError(err) }, 'cannot list owned records during resync');
      }
    }
  }

  summary(): BridgeStatus {
    return this.#book.summary(this.#o.isWriter?.() ?? true, this.#queue.depth);
  }

  explain(ref: ServiceRef): ServiceExplain {
    return this.#book.explain(ref);
  }

  #nudge(source: RegistryId, ref: ServiceRef): void {
    if (!this.#hadKeys.has(source) && this.#sources.get(source)?.get(ref) !== undefined) this.#hadKeys.add(source);
    for (const key of this.#index.note(this.#o.routes, source, ref)) this.#queue.add(key);
    this.#metrics.queueDepth(this.#queue.depth);
  }

  async #openGates(): Promise<void> {
    for (const [id, source] of this.#sources) this.#metrics.sourceSynced(id, source.hasSynced());
    for (const [sinkId] of this.#sinks) {
      if (this.#readySinks.has(sinkId)) continue;
      const feeding = (this.#routesBySink.get(sinkId) ?? []).flatMap((r) => r.from);
      if (!feeding.every((id) => this.#sources.get(id)?.hasSynced() === true)) continue;
      try {
        await this.#enqueueOwned(sinkId);
        this.#readySinks.add(sinkId);
        this.#log.info({ sink: sinkId }, 'sources synced and owned records listed: sink open for writes');
        await this.resync();
        // Once every sink is open the gate has nothing left to do; idle CPU matters at 100k endpoints.
        if (this.synced()) clearInterval(this.#gateTimer);
      } catch (err) {
        this.#log.warn({ sink: sinkId, err: describeError(err) }, 'cannot list owned records yet; sink stays closed');
      }
    }
    this.#checkIdle();
  }

  async #enqueueOwned(sinkId: RegistryId): Promise<void> {
    const sink = this.#sinks.get(sinkId);
    if (sink === undefined) return;
    for (const ref of await sink.ownedRefs()) this.#queue.add(targetKey({ sink: sinkId, ref }));
  }

  #scheduleResync(): void {
    const period = this.#o.resyncMs ?? 300_000;
    const jitter = this.#o.resyncJitter ?? 0.1;
    const delay = period * (1 + (Math.random() * 2 - 1) * jitter);
    this.#resyncTimer = setTimeout(() => {
      this.resync().catch((err: unknown) => { this.#log.warn({ err: describeError(err) }, 'resync failed; next one retries'); });
      this.#scheduleResync();
    }, delay);
    this.#resyncTimer.unref();
  }

  async #work(): Promise<void> {
    for (;;) {
      const item = await this.#queue.get();
      if (item === undefined) return;
      this.#busy++;
      try {
        await this.#process(item.key, item.firstAddedAt);
      } finally {
        this.#busy--;
        this.#queue.done(item.key);
        this.#metrics.queueDepth(this.#queue.depth);
        this.#checkIdle();
      }
    }
  }

  async #process(key: string, firstAddedAt: number): Promise<void> {
    const target = parseTargetKey(key);
    const sink = this.#sinks.get(target.sink);
    if (sink === undefined || !this.#readySinks.has(target.sink)) return; // the gate's resync re-queues it
    const started = Date.now();
    const writer = this.#o.isWriter?.() ?? true;
    if (writer && !this.#wasWriter) {
      // Just became the leader: what was skipped as a follower must be re-checked, all of it.
      this.#log.info({}, 'became the writer; resyncing every target');
      void this.resync();
    }
    this.#wasWriter = writer;
    try {
      const result = await reconcile(this.#input(key, target, sink, writer));
      this.#limiter.forget(key);
      this.#book.record(key, target, result, started);
      if (result.change !== 'none' && result.outcome !== 'waiting') {
        this.#metrics.write(target.sink, result.change === 'delete' ? 'remove' : 'apply', 'ok');
        this.#metrics.propagation(target.sink, (Date.now() - firstAddedAt) / 1000);
        this.#log.debug({ sink: target.sink, key, change: result.change, before: result.before, after: result.after }, 'reconciled');
      }
      if (result.requeueAfterMs !== undefined) this.#queue.addAfter(key, result.requeueAfterMs);
      this.#metrics.reconciled(target.sink, result.outcome, (Date.now() - started) / 1000);
    } catch (err) {
      this.#book.recordError(key, target, describeError(err), started);
      this.#metrics.reconciled(target.sink, 'error', (Date.now() - started) / 1000);
      this.#metrics.write(target.sink, 'apply', 'error');
      if (isTerminal(err)) {
        this.#limiter.forget(key);
        this.#log.error({ sink: target.sink, key, err: describeError(err) }, 'reconcile failed for good; not retried until the next change');
        return;
      }
      const delay = this.#limiter.when(key);
      this.#metrics.retry(target.sink);
      this.#log.warn({ sink: target.sink, key, err: describeError(err), retryInMs: delay }, 'reconcile failed; retrying');
      this.#queue.addAfter(key, delay);
    }
  }

  #input(key: string, target: Target, sink: Sink, write: boolean): Parameters<typeof reconcile>[0] {
    const split = this.#o.weights?.get(target.ref);
    return {
      target,
      sink,
      sources: this.#sources,
      routesToSink: this.#routesBySink.get(target.sink) ?? [],
      contributors: this.#index.get(key),
      frozen: (policy) => this.#frozenOrigins(policy),
      heldSince: this.#book.heldSince(key),
      now: Date.now(),
      write,
      ...(split === undefined ? {} : { split }),
    };
  }

  /** Dry run of every target: what a writer would do now. Used by `isthmus plan`. */
  async plan(): Promise<{ key: string; target: Target; result: ReconcileResult }[]> {
    const keys = new Set<string>(this.#index.keys());
    for (const [sinkId, sink] of this.#sinks) {
      for (const ref of await sink.ownedRefs()) keys.add(targetKey({ sink: sinkId, ref }));
    }
    const out: { key: string; target: Target; result: ReconcileResult }[] = [];
    for (const key of [...keys].sort()) {
      const target = parseTargetKey(key);
      const sink = this.#sinks.get(target.sink);
      if (sink === undefined) continue;
      out.push({ key, target, result: await reconcile(this.#input(key, target, sink, false)) });
    }
    return out;
  }

  /** Subscribes the index to source keys without starting workers (for plan). */
  primeIndex(): void {
    for (const source of this.#sources.values()) {
      for (const ref of source.keys()) {
        if (source.get(ref) !== undefined) this.#hadKeys.add(source.id);
        this.#index.note(this.#o.routes, source.id, ref);
      }
    }
  }

  #frozenOrigins(policy: RoutePolicy): Map<RegistryId, string> {
    const frozen = new Map<RegistryId, string>();
    const now = Date.now();
    for (const [id, source] of this.#sources) {
      const h = source.health();
      const stale = policy.staleAfterSeconds !== undefined && now - h.lastContact > policy.staleAfterSeconds * 1000;
      if (!h.reachable && !stale) {
        frozen.set(id, `source ${id} is unreachable${h.lastError === undefined ? '' : ` (${h.lastError})`}: its endpoints are frozen`);
      } else if (policy.deleteGuard.registryEmpty === 'hold' && this.#hadKeys.has(id) && isEmpty(source)) {
        frozen.set(id, `source ${id} went empty after listing services: held as a likely outage, not propagated`);
      }
    }
    return frozen;
  }

  #isIdle(): boolean {
    return this.synced() && this.#busy === 0 && this.#queue.activeDepth === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle() || this.#idleWaiters.length === 0) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }
}

function isEmpty(source: Source): boolean {
  return source.keys()[Symbol.iterator]().next().done === true;
}
