import type { RegistryId, Route, ServiceRef } from '../model/index.ts';
import { describeError, isTerminal } from '../errors/index.ts';
import type { Sink, Source } from '../ports/index.ts';
import type { EngineLogger } from './logger-port.ts';
import { SILENT_LOGGER } from './logger-port.ts';
import { RetryLimiter, type RetryPolicy } from './rate-limiter.ts';
import { ReconcileContext } from './reconcile-context.ts';
import { reconcile } from './reconciler.ts';
import { SinkBackoff } from './sink-backoff.ts';
import { SinkGate } from './sink-gate.ts';
import type { BridgeStatus, ServiceExplain, StatusProvider, TargetStatus } from './status.ts';
import { NO_METRICS, type SyncMetrics } from './sync-metrics.ts';
import type { Target } from './target.ts';
import type { Weights } from './weights.ts';
import { WorkQueue } from './work-queue.ts';

/**
 * Debounce of a key's changes. 10 ms still joins the events one change produces (a Service and
 * its slices, a registry's per-instance notifications) and keeps propagation well under the
 * 50 ms p50 target; bursts that straddle it are judged whole by the deletion guard's window.
 */
export const DEFAULT_QUIET_MS = 10;

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
  /** Migration splits; a change re-checks the targets of that service. */
  readonly weights?: Weights;
}

/**
 * The level-triggered sync engine: source nudges → debounced work queue → workers reconcile one
 * (sink, service) target at a time. Nothing is reconciled into a sink until its gate opens
 * (`sink-gate.ts`); a registry failing as a whole is backed off as a whole (`sink-backoff.ts`);
 * a jittered periodic resync re-checks every target, including owned records whose source is
 * gone (garbage collection). A worker never stops on a failure: every pass ends in a status.
 */
export class Engine implements StatusProvider {
  readonly #o: EngineOptions;
  readonly #ctx: ReconcileContext;
  readonly #queue: WorkQueue;
  readonly #limiter: RetryLimiter;
  readonly #metrics: SyncMetrics;
  readonly #log: EngineLogger;
  readonly #backoff = new Map<RegistryId, SinkBackoff>();
  readonly #gate: SinkGate;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #workers: Promise<void>[] = [];
  #busy = 0;
  #wasWriter = true;
  #resyncTimer: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(options: EngineOptions) {
    this.#o = options;
    const maxDelayMs = options.maxDelayMs ?? 1000;
    // The guard looks back as far as the queue may hold a burst together (guard.ts, engine-book.ts).
    this.#ctx = new ReconcileContext(options.bridgeId, options.sources, options.sinks, options.routes, options.weights, maxDelayMs);
    this.#queue = new WorkQueue({ quietMs: options.quietMs ?? DEFAULT_QUIET_MS, maxDelayMs });
    const retry: RetryPolicy = { baseMs: 200, maxMs: 60_000, perSecond: 50, burst: 500, ...options.retry };
    this.#limiter = new RetryLimiter(retry);
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#log = options.logger ?? SILENT_LOGGER;
    for (const s of options.sinks) this.#backoff.set(s.id, new SinkBackoff(s.id, { baseMs: retry.baseMs, maxMs: retry.maxMs }, this.#log));
    this.#gate = new SinkGate(this.#ctx, this.#backoff, this.#log, {
      onOwned: (_sink, keys) => { for (const k of keys) this.#queue.add(k); },
      onOpen: () => {
        this.#resyncSources();
        this.#checkIdle();
      },
    });
  }

  /** Subscribes to the sources and starts the workers. Sources and sinks are started by the caller. */
  start(): void {
    for (const source of this.#ctx.sources.values()) {
      this.#unsubscribe.push(source.onChange((ref) => { this.#nudge(source.id, ref); }));
    }
    for (const sink of this.#ctx.sinks.values()) {
      const off = sink.onReset?.(() => {
        this.#log.warn({ sink: sink.id }, 'registry lost our records; resyncing this sink now');
        this.resync().catch((err: unknown) => { this.#log.warn({ err: describeError(err) }, 'resync after reset failed; the periodic one retries'); });
      });
      if (off !== undefined) this.#unsubscribe.push(off);
    }
    const offWeights = this.#o.weights?.onChange((ref) => { this.#nudgeService(ref); });
    if (offWeights !== undefined) this.#unsubscribe.push(offWeights);
    for (let i = 0; i < (this.#o.workers ?? 8); i++) this.#workers.push(this.#work());
    this.#gate.start();
    this.#scheduleResync();
  }

  /** Stops taking work and waits for reconciles in flight; never deletes or deregisters anything. */
  async stop(): Promise<void> {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#gate.stop();
    clearTimeout(this.#resyncTimer);
    this.#queue.shutdown();
    await Promise.all(this.#workers);
  }

  /** True once every sink has opened (its sources synced, its owned records listed). */
  synced(): boolean {
    return this.#gate.allOpen();
  }

  /** Resolves when every sink is open and no work is queued or running (tests, bench, plan). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Re-checks every target now: every source key and every owned record of every open sink. */
  async resync(): Promise<void> {
    this.#resyncSources();
    for (const sinkId of this.#gate.openSinks()) {
      if ((this.#backoff.get(sinkId)?.admit() ?? 0) > 0) continue; // its next probe comes with the backoff
      try {
        await this.#gate.listOwned(sinkId);
        this.#backoff.get(sinkId)?.succeeded();
      } catch (err) {
        // One registry being down must not stop the others' garbage collection; the next resync retries.
        this.#backoff.get(sinkId)?.failed(err, 'cannot list owned records during resync');
      }
    }
  }

  summary(): BridgeStatus {
    return this.#ctx.book.summary(this.#o.isWriter?.() ?? true, this.#queue.depth);
  }

  explain(ref: ServiceRef): ServiceExplain {
    return this.#ctx.book.explain(ref);
  }

  targets(): readonly TargetStatus[] {
    return this.#ctx.book.targets();
  }

  /** Sizes of the per-service bookkeeping (tests prove it shrinks back after churn). */
  bookkeeping(): { contributors: number; ownedOnly: number; book: number; queue: number } {
    return { ...this.#ctx.sizes(), queue: this.#queue.depth };
  }

  /** The shared reconcile context, for the dry run (`dry-run.ts`). */
  get context(): ReconcileContext {
    return this.#ctx;
  }

  #resyncSources(): void {
    for (const source of this.#ctx.sources.values()) {
      for (const ref of source.keys()) this.#nudge(source.id, ref);
    }
  }

  #nudge(source: RegistryId, ref: ServiceRef): void {
    for (const key of this.#ctx.noteSource(source, ref)) this.#queue.add(key);
    this.#metrics.queueDepth(this.#queue.depth);
  }

  /** A service's split changed: only the targets it feeds, not every key of every source. */
  #nudgeService(ref: ServiceRef): void {
    for (const source of this.#ctx.sources.values()) if (source.get(ref) !== undefined) this.#nudge(source.id, ref);
    for (const key of this.#ctx.keys()) {
      const t = this.#ctx.target(key);
      if (t !== undefined && t.ref.namespace === ref.namespace && t.ref.name === ref.name) this.#queue.add(key);
    }
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
      } catch (err) {
        // A bug, not a registry answer: report it and keep the worker alive for everything else.
        this.#log.error({ key: item.key, err: describeError(err) }, 'internal error while reconciling; the key is retried with backoff');
        this.#queue.addAfter(item.key, this.#limiter.when(item.key));
      } finally {
        this.#busy--;
        this.#queue.done(item.key);
        this.#metrics.queueDepth(this.#queue.depth);
        this.#checkIdle();
      }
    }
  }

  async #process(key: string, firstAddedAt: number): Promise<void> {
    const target = this.#ctx.target(key);
    if (target === undefined || !this.#gate.isOpen(target.sink)) return; // the gate's resync re-queues it
    const backoff = this.#backoff.get(target.sink);
    const wait = backoff?.admit() ?? 0;
    if (wait > 0) {
      this.#queue.addAfter(key, wait);
      return;
    }
    const started = Date.now();
    const writer = this.#o.isWriter?.() ?? true;
    if (writer && !this.#wasWriter) {
      // Just became the leader: what was skipped as a follower must be re-checked, all of it.
      this.#log.info({}, 'became the writer; resyncing every target');
      void this.resync();
    }
    this.#wasWriter = writer;
    try {
      const result = await reconcile(this.#ctx.input(key, target, writer, started));
      if (backoff?.succeeded() === true) this.#recovered(target.sink);
      this.#limiter.forget(key);
      this.#ctx.settle(key, target, result, started);
      if (result.change !== 'none' && result.outcome !== 'planned') {
        this.#metrics.write(target.sink, result.change === 'delete' ? 'remove' : 'apply', 'ok');
        this.#metrics.propagation(target.sink, (Date.now() - firstAddedAt) / 1000);
        this.#log.debug({ sink: target.sink, key, change: result.change, before: result.before, after: result.after, writes: result.operations.length }, 'reconciled');
      }
      if (result.requeueAfterMs !== undefined) this.#queue.addAfter(key, result.requeueAfterMs);
      this.#metrics.reconciled(target.sink, result.outcome, (Date.now() - started) / 1000);
    } catch (err) {
      this.#failed(key, target, err, started);
    }
  }

  #failed(key: string, target: Target, err: unknown, started: number): void {
    this.#ctx.book.recordError(key, target, describeError(err), started);
    this.#metrics.reconciled(target.sink, 'error', (Date.now() - started) / 1000);
    this.#metrics.write(target.sink, 'apply', 'error');
    const backoff = this.#backoff.get(target.sink);
    if (backoff !== undefined && SinkBackoff.isSinkWide(err)) {
      // The registry, not this record: the whole sink waits, and this key is its next probe.
      this.#metrics.retry(target.sink);
      this.#queue.addAfter(key, backoff.failed(err, 'registry failing; writes paused'));
      return;
    }
    // It answered: a record-level refusal says the registry is up.
    if (backoff?.succeeded() === true) this.#recovered(target.sink);
    if (isTerminal(err)) {
      this.#limiter.forget(key);
      this.#log.error({ sink: target.sink, key, err: describeError(err) }, 'reconcile failed for good; not retried until the next change');
      return;
    }
    const delay = this.#limiter.when(key);
    this.#metrics.retry(target.sink);
    if (this.#limiter.failures(key) <= 1) this.#log.warn({ sink: target.sink, key, err: describeError(err), retryInMs: delay }, 'reconcile failed; retrying');
    else this.#log.debug({ sink: target.sink, key, err: describeError(err), retryInMs: delay }, 'reconcile failed again; retrying');
    this.#queue.addAfter(key, delay);
  }

  /** A sink answers again: what waited out its backoff is due now, not a period later. */
  #recovered(sink: RegistryId): void {
    for (const key of this.#ctx.keys()) if (this.#ctx.target(key)?.sink === sink) this.#queue.add(key);
  }

  #isIdle(): boolean {
    return this.synced() && this.#busy === 0 && this.#queue.activeDepth === 0;
  }

  #checkIdle(): void {
    if (!this.#isIdle() || this.#idleWaiters.length === 0) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }
}
