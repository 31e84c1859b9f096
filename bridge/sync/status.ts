import type { RegistryId, ServiceRef } from '../model/index.ts';
import type { QuarantinedRecord, SourceHealth } from '../ports/index.ts';

/** A removal the deletion guard is holding back (DESIGN §4), with why and until when. */
export interface HeldChange {
  readonly sink: RegistryId;
  readonly ref: ServiceRef;
  readonly reason: string;
  /** Endpoints that would have been removed. */
  readonly endpoints: number;
  readonly since: number;
  /** Epoch ms when the hold is released if the sources still agree; absent = until they change. */
  readonly releaseAt?: number;
}

/** `planned`: a dry run or a replica that is not the writer decided on writes and made none. */
export type ReconcileOutcome = 'in-sync' | 'applied' | 'removed' | 'held' | 'error' | 'planned';

/** The engine's view of one (sink, target ref) pair. */
export interface TargetStatus {
  readonly sink: RegistryId;
  readonly ref: ServiceRef;
  /** Routes whose selected sources contribute to this target. */
  readonly routes: readonly string[];
  readonly outcome: ReconcileOutcome;
  readonly desiredEndpoints: number;
  readonly at: number;
  readonly error?: string;
  readonly held?: HeldChange;
}

export interface SourceStatus {
  readonly id: RegistryId;
  readonly synced: boolean;
  readonly health: SourceHealth;
  readonly services: number;
}

export interface RouteStatus {
  readonly id: string;
  readonly from: readonly RegistryId[];
  readonly to: RegistryId;
}

export interface BridgeStatus {
  readonly bridgeId: string;
  /** Whether this replica is the writer (always true without leader election). */
  readonly leader: boolean;
  readonly sources: readonly SourceStatus[];
  readonly routes: readonly RouteStatus[];
  readonly queueDepth: number;
  readonly held: readonly HeldChange[];
  readonly quarantined: readonly QuarantinedRecord[];
  readonly errors: readonly TargetStatus[];
}

/** Explains one service: what the engine did with it toward every sink, and what it refused. */
export interface ServiceExplain {
  readonly ref: ServiceRef;
  /** Each source's view of this ref: how many endpoints, or absent. */
  readonly sources: readonly { readonly id: RegistryId; readonly endpoints: number }[];
  /** Source-side ref → (sink, target ref) for every route that carries it. */
  readonly targets: readonly TargetStatus[];
  readonly quarantined: readonly QuarantinedRecord[];
}

/** Read-only window into the engine for the resolver's status API and the CLI. */
export interface StatusProvider {
  summary(): BridgeStatus;
  explain(ref: ServiceRef): ServiceExplain;
  /** Every target's last outcome (the console's "exported to" column); optional for fakes. */
  targets?(): readonly TargetStatus[];
}
