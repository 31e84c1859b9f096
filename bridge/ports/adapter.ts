import type { TSchema } from '@sinclair/typebox';
import type { RegistryId } from '../model/index.ts';
import type { EngineLogger } from '../sync/logger-port.ts';
import type { MigrationStore } from './migrations.ts';
import type { Sink } from './sink.ts';
import type { Source } from './source.ts';

export interface AdapterContext {
  /** Goes into every ownership marker this adapter writes. */
  readonly bridgeId: string;
  readonly registryId: RegistryId;
  readonly logger: EngineLogger;
}

/** Decides which replica writes (DESIGN §9); every replica keeps reading and serving. */
export interface LeaderElection {
  start(signal: AbortSignal): void;
  /** Checked before every reconcile; false stops writes at once. */
  isLeader(): boolean;
  /**
   * Optional: calls `listener` on every change of leadership, as the elector sees it happen.
   * Without it the runtime polls `isLeader` (a takeover must resync at once, not at the next
   * periodic resync).
   */
  onChange?(listener: (leader: boolean) => void): () => void;
  /** Hands the lease over on shutdown so a peer takes over without waiting for expiry. */
  release(): Promise<void>;
  /**
   * Longest a waiting peer may take to try again and so pick up a released lease. The runtime
   * keeps its registry connections open about this long after `release`, so ephemeral records
   * (Nacos instances, ZooKeeper znodes) live until the new leader has written its own.
   */
  readonly takeoverMs?: number;
}

/** One configured registry connection: its read side, its write side, or both. */
export interface Adapter {
  readonly source?: Source;
  readonly sink?: Sink;
  /** Present when this registry hosts leader election (Kubernetes Lease) and it is enabled. */
  readonly leader?: LeaderElection;
  /** Present when this registry hosts ServiceMigration objects (Kubernetes). */
  readonly migrations?: MigrationStore;
  /** Releases connections; never deregisters anything (DESIGN §4: restart is a no-op). */
  close(): Promise<void>;
}

/**
 * A registry kind (`kubernetes`, `consul`…). The options schema joins the config schema, so a
 * registry's options are validated with everything else before anything connects.
 */
export interface AdapterKind {
  readonly kind: string;
  readonly optionsSchema: TSchema;
  readonly canSource: boolean;
  readonly canSink: boolean;
  /** `options` has passed `optionsSchema` with defaults applied. */
  create(options: unknown, ctx: AdapterContext): Adapter;
}
