import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RegistryId } from '../model/index.ts';
import type { ReconcileOutcome } from '../sync/status.ts';
import type { SyncMetrics } from '../sync/sync-metrics.ts';
import { registerResolverMetrics, type ResolverMetrics } from './resolver-metrics.ts';
import { registerStateMetrics, type StateMetrics } from './state-metrics.ts';

/**
 * Prometheus metrics of one bridge process. Uses its own prom-client Registry rather than the
 * global one, so several instances (tests, an embedded bridge) never collide on names.
 *
 * Labels carry registry ids and fixed enums only, never error text: error strings are
 * unbounded and would turn every new message into a new time series. Errors are in logs and the
 * status API instead.
 */
export interface Metrics {
  /** What the engine reports into. */
  readonly sync: SyncMetrics;
  /** The underlying registry, for components that add their own metrics (resolver). */
  readonly registry: Registry;
  /** Exposition text for `/metrics`. */
  render(): Promise<string>;
  /** Content-Type header to send with `render()`. */
  readonly contentType: string;
  /**
   * Where `isthmus_quarantined_records` is read from at each scrape: the engine's status list
   * (`summary().quarantined`), so the gauge and `/v1/status` can never disagree.
   */
  trackQuarantine(read: () => readonly { readonly registry: RegistryId }[]): void;
  /** Source reachability, leadership and hold age (state-metrics.ts). */
  readonly state: StateMetrics;
  /** Resolver requests and watchers per transport (resolver-metrics.ts). */
  readonly resolver: ResolverMetrics;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC); on by default, off in most tests. */
  readonly processMetrics?: boolean;
  /** Constant labels on every series, e.g. `{ bridge: 'prod-east' }`. */
  readonly defaultLabels?: Readonly<Record<string, string>>;
}

// Propagation is the headline figure (DESIGN §12: p50 ≤ 50 ms, p99 ≤ 250 ms); the buckets are
// dense around those targets and reach 30 s, where only retries and held changes land.
export const PROPAGATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// A reconcile is one observe plus at most one batched write: milliseconds, seconds when a
// registry is slow.
export const RECONCILE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultLabels !== undefined) registry.setDefaultLabels({ ...options.defaultLabels });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const reconcileTotal = new Counter({
    name: 'isthmus_reconcile_total',
    help: 'Reconciles of one target, by sink and outcome.',
    labelNames: ['sink', 'outcome'] as const,
    registers,
  });
  const reconcileDuration = new Histogram({
    name: 'isthmus_reconcile_duration_seconds',
    help: 'Duration of one reconcile (observe, diff, write).',
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const writes = new Counter({
    name: 'isthmus_sync_writes_total',
    help: 'Sink calls (apply or remove), by sink, operation and result.',
    labelNames: ['sink', 'op', 'result'] as const,
    registers,
  });
  const queueDepth = new Gauge({ name: 'isthmus_queue_depth', help: 'Keys waiting in the work queue.', registers });
  const propagation = new Histogram({
    name: 'isthmus_propagation_seconds',
    help: 'Seconds from the first change notice of a key to its successful reconcile, by sink.',
    labelNames: ['sink'] as const,
    buckets: PROPAGATION_BUCKETS,
    registers,
  });
  const held = new Gauge({ name: 'isthmus_held_deletes', help: 'Removals the deletion guard is currently holding.', registers });
  let readQuarantine: (() => readonly { readonly registry: RegistryId }[]) | undefined;
  // Registries once seen keep a series at 0 when their last record leaves quarantine, so an
  // alert on the value clears instead of the series vanishing.
  const quarantineSeen = new Set<RegistryId>();
  const quarantined = new Gauge({
    name: 'isthmus_quarantined_records',
    help: 'Records refused as invalid, by registry.',
    labelNames: ['registry'] as const,
    registers,
    collect() {
      if (readQuarantine === undefined) return;
      const counts = new Map<RegistryId, number>([...quarantineSeen].map((r) => [r, 0]));
      for (const q of readQuarantine()) counts.set(q.registry, (counts.get(q.registry) ?? 0) + 1);
      for (const [registry, count] of counts) {
        quarantineSeen.add(registry);
        this.set({ registry }, count);
      }
    },
  });
  const synced = new Gauge({
    name: 'isthmus_source_synced',
    help: '1 once a source has completed its initial list, else 0.',
    labelNames: ['registry'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'isthmus_sync_retries_total',
    help: 'Reconciles requeued after a failure, by sink.',
    labelNames: ['sink'] as const,
    registers,
  });

  const sync: SyncMetrics = {
    reconciled(sink: RegistryId, outcome: ReconcileOutcome, seconds: number) {
      reconcileTotal.inc({ sink, outcome });
      reconcileDuration.observe(seconds);
    },
    write(sink, op, result) {
      writes.inc({ sink, op, result });
    },
    queueDepth(depth) {
      queueDepth.set(depth);
    },
    propagation(sink, seconds) {
      propagation.observe({ sink }, seconds);
    },
    held(count) {
      held.set(count);
    },
    quarantined(registryId, count) {
      quarantined.set({ registry: registryId }, count);
    },
    sourceSynced(registryId, isSynced) {
      synced.set({ registry: registryId }, isSynced ? 1 : 0);
    },
    retry(sink) {
      retries.inc({ sink });
    },
  };

  return {
    sync,
    state: registerStateMetrics(registers),
    resolver: registerResolverMetrics(registers),
    registry,
    render: () => registry.metrics(),
    contentType: registry.contentType,
    trackQuarantine: (read) => { readQuarantine = read; },
  };
}
