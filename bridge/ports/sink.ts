import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../model/index.ts';

/** Endpoint fields a registry may or may not be able to store. */
export type EndpointField = Exclude<keyof Endpoint, 'address' | 'ports'>;

/**
 * Write side of a registry. Sees and touches only records carrying this bridge's `managed-by`.
 *
 * Contract:
 * - `fields` names the endpoint fields this registry can store besides address and ports (an
 *   EndpointSlice has no per-endpoint metadata, say). `observe` returns what this bridge owns
 *   for `ref`, with those fields round-tripped exactly, or undefined when nothing is owned; the
 *   engine compares desired and observed on exactly those fields, which is what makes a second
 *   reconcile and a restart write nothing. `observe` is safe to call at any time.
 * - `ownedRefs` lists every ref with at least one owned record (used by resync garbage
 *   collection). It must be complete: a ref missing here is a record never cleaned up.
 * - `apply` makes the owned state for `desired.ref` equal `desired` (the full set; an empty set
 *   keeps the service but no endpoints). It is idempotent: applying what `observe` returns
 *   performs zero registry writes. It writes as few records as the registry allows (batched).
 * - `remove` deletes every owned record of `ref` and nothing else.
 * - The engine never calls two of these for the same ref at once; calls for different refs may
 *   run concurrently. Failures throw a `BridgeError`; the engine retries with backoff.
 */
export interface Sink {
  readonly id: RegistryId;
  readonly fields: readonly EndpointField[];
  start(signal: AbortSignal): Promise<void>;
  observe(ref: ServiceRef): Promise<ServiceSnapshot | undefined>;
  ownedRefs(): Promise<readonly ServiceRef[]>;
  apply(desired: ServiceSnapshot): Promise<void>;
  remove(ref: ServiceRef): Promise<void>;
  /**
   * Optional: the registry lost what we wrote behind our back (a Consul dev agent restarted, a
   * ZooKeeper session expired). The engine answers with a resync of this sink at once instead
   * of waiting for the periodic one.
   */
  onReset?(listener: () => void): () => void;
  /**
   * Optional, cleanup only: called once after every owned service was removed, to drop what this
   * bridge wrote that belongs to no single service (Consul's synthetic node, Dubbo's interface
   * mapping and metadata). Must remove owned records only, and only those nothing uses any more.
   */
  retire?(): Promise<void>;
  /**
   * Optional: this replica just became the writer. Records of this bridge id that another
   * process holds through a connection-scoped session (Nacos ephemeral instances, ZooKeeper
   * ephemeral nodes) vanish when that process exits, so from now on count only what this
   * process's own session holds: the next pass re-publishes the rest alongside, and the old
   * leader's exit then removes nothing callers see.
   */
  adopt?(): void;
}
