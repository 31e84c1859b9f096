import type { RegistryId, ServiceRef, ServiceSnapshot } from '../model/index.ts';

/** A record a source or the engine refused, kept with its reason for status and metrics. */
export interface QuarantinedRecord {
  readonly registry: RegistryId;
  /** The registry's own id of the record (znode path, instance id…). */
  readonly nativeId: string;
  readonly ref?: ServiceRef;
  readonly reason: string;
  readonly since: number;
}

/**
 * Something about a source's records that a person should know but that changes no sync
 * decision (an exported address VM callers cannot use, an optional read that is refused).
 */
export interface SourceNotice {
  /** Stable kind, for metrics and filtering: `mtls-strict`, `mtls-unreadable`, `workloadentries-unreadable`. */
  readonly code: string;
  readonly ref?: ServiceRef;
  readonly reason: string;
}

export interface SourceHealth {
  /** False while the registry cannot be listed or watched; the engine then freezes deletes. */
  readonly reachable: boolean;
  /** Epoch ms of the last time the source was known to be reachable. */
  readonly lastContact: number;
  readonly lastError?: string;
  /**
   * Set while the registry answers but cannot be trusted to tell a removal from a loss (Eureka
   * in self-preservation, an answer that suddenly lists nothing): the engine holds removals of
   * this source's endpoints, as for an outage, and status shows this reason. Updates still flow.
   */
  readonly holdRemovals?: string;
  /** Advisory findings, shown by status; absent or empty when there is nothing to say. */
  readonly notices?: readonly SourceNotice[];
}

/**
 * Read side of a registry: a cache filled by list+watch, plus key nudges.
 *
 * Contract:
 * - Freshness: `get` and `keys` read only the local cache and never block on the network. The
 *   cache keeps the last known good state while the registry is unreachable (freeze); it is
 *   replaced only by a successful relist.
 * - Nudges, not payloads: `onChange` is called with the ref whose state may have changed,
 *   possibly spuriously and possibly coalesced; listeners re-read with `get`. Order between refs
 *   is not guaranteed. Listeners must not throw and must not block.
 * - `hasSynced` turns true after the first complete list and stays true; until then the engine
 *   acts on nothing from this source (no writes and, above all, no deletes).
 * - Records carrying any Isthmus ownership marker are never reported (loop prevention).
 * - Records that cannot be converted are left out and listed by `quarantined` with the reason.
 * - `start` resolves once watching has begun (not when synced) and supervises its own watches
 *   (reconnect with backoff) until `signal` aborts; it never throws for a registry outage.
 */
export interface Source {
  readonly id: RegistryId;
  start(signal: AbortSignal): Promise<void>;
  hasSynced(): boolean;
  health(): SourceHealth;
  keys(): Iterable<ServiceRef>;
  get(ref: ServiceRef): ServiceSnapshot | undefined;
  onChange(listener: (ref: ServiceRef) => void): () => void;
  quarantined(): readonly QuarantinedRecord[];
}
