import type { RegistryId, ServiceRef } from '../model/index.ts';
import type { SinkOperation } from '../ports/index.ts';

/** What one reconcile would do to one target; the dry run (`isthmus plan`) lists these. */
export interface PlannedChange {
  readonly route: string;
  readonly sink: RegistryId;
  readonly ref: ServiceRef;
  readonly action: 'create' | 'update' | 'delete' | 'hold';
  /** Endpoint counts: before (owned in the sink) and after (desired). */
  readonly before: number;
  readonly after: number;
  /** The native writes the sink planned, one per record. */
  readonly operations: readonly SinkOperation[];
  readonly reason?: string;
}

export interface PlanReport {
  readonly bridgeId: string;
  readonly changes: readonly PlannedChange[];
  /** Targets already in sync, counted rather than listed. */
  readonly inSync: number;
  /** Sources that did not finish listing within the plan's timeout: the plan is incomplete. */
  readonly unsyncedSources: readonly RegistryId[];
}

export interface CleanupReport {
  readonly bridgeId: string;
  /** Per sink, the refs whose owned records were (or, in a dry run, would be) removed. */
  readonly removed: readonly { readonly sink: RegistryId; readonly refs: readonly ServiceRef[] }[];
  readonly dryRun: boolean;
}
