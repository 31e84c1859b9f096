import type { RegistryId } from '../model/index.ts';
import type { ReconcileOutcome } from './status.ts';

/**
 * What the engine reports. The runtime implements it with Prometheus; tests and benchmarks use
 * the no-op. Kept as an interface so bridge/sync does not depend on a metrics library.
 */
export interface SyncMetrics {
  reconciled(sink: RegistryId, outcome: ReconcileOutcome, seconds: number): void;
  /** One sink call (apply or remove) and how it ended. */
  write(sink: RegistryId, op: 'apply' | 'remove', result: 'ok' | 'error'): void;
  queueDepth(depth: number): void;
  /** Seconds from the first nudge of a key to the end of its successful reconcile. */
  propagation(sink: RegistryId, seconds: number): void;
  held(count: number): void;
  quarantined(registry: RegistryId, count: number): void;
  sourceSynced(registry: RegistryId, synced: boolean): void;
  retry(sink: RegistryId): void;
}

export const NO_METRICS: SyncMetrics = {
  reconciled: () => undefined,
  write: () => undefined,
  queueDepth: () => undefined,
  propagation: () => undefined,
  held: () => undefined,
  quarantined: () => undefined,
  sourceSynced: () => undefined,
  retry: () => undefined,
};
