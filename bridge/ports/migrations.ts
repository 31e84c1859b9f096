import type { ServiceRef } from '../model/index.ts';
import type { MigrationPhase, MigrationStatus } from '../runtime/config/migration-schema.ts';
import type { Split } from '../sync/split.ts';
import type { SplitOrigin } from '../sync/weights.ts';

/** Where a ServiceMigration object lives (Kubernetes namespace and object name). */
export interface MigrationObject {
  readonly namespace: string;
  readonly name: string;
}

/** One ServiceMigration as read and checked: the service it governs and its declared split. */
export interface Migration {
  readonly object: MigrationObject;
  /** The service, from `spec.service` or the object's namespace and name. */
  readonly ref: ServiceRef;
  /** Absent: the object reports progress only and the config file's split (if any) applies. */
  readonly split?: Split;
  readonly phase?: MigrationPhase;
  readonly generation: number;
  /** The status as last read (the leader skips writing one that would not change it). */
  readonly status?: MigrationStatus;
  /**
   * Set when the object cannot be used (bad spec, a second object for the same service): the
   * split is ignored and the reason goes into its status.
   */
  readonly problem?: string;
}

/**
 * ServiceMigration objects (isthmus.dev/v1alpha1), read by every replica and written by
 * `isthmus weight` (any replica) and status (the leader). Hosted by the Kubernetes adapter.
 */
export interface MigrationStore {
  /** Lists and watches; resolves once the first list is in (or the CRD is found missing). */
  start(signal: AbortSignal): Promise<void>;
  /**
   * False while the CRD is not installed or this identity may not read it: splits then come from
   * config and memory, and `reason` says why (for logs, status and `isthmus weight`).
   */
  available(): { readonly ok: boolean; readonly reason?: string };
  /** Every object currently known, including those with a problem. */
  list(): readonly Migration[];
  /** Called after every change to the list (add, update, delete, relist). */
  onChange(listener: () => void): () => void;
  /**
   * Sets (or with undefined removes) the service's split: merge-patches the object governing
   * the service, or creates one. Resolves with the object written. Throws a BridgeError with
   * a stable code: ISTHMUS_MIGRATION_UNAVAILABLE when the CRD is missing or RBAC refuses,
   * ISTHMUS_REGISTRY_UNREACHABLE when the apiserver does not answer.
   */
  setSplit(ref: ServiceRef, split: Split | undefined): Promise<MigrationObject>;
  /** Replaces the status subresource (merge patch of `status`). */
  writeStatus(object: MigrationObject, status: MigrationStatus): Promise<void>;
}

/** What `isthmus status ns/name` shows about a service's migration (GET /v1/status/:ns/:name). */
export interface MigrationReport {
  /** The governing ServiceMigration as `namespace/name`; absent when the service has none. */
  readonly object?: string;
  readonly phase?: MigrationPhase;
  /** The split in force and the layer it comes from. */
  readonly split?: Split;
  readonly splitFrom?: SplitOrigin;
  /** Why the object's own split is not used. */
  readonly problem?: string;
  /** Computed now (the object's own may lag by the writer's interval). */
  readonly status?: MigrationStatus;
  /** Set when ServiceMigration objects cannot be read (no CRD, no RBAC). */
  readonly unavailable?: string;
}
