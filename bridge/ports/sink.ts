import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../model/index.ts';
import type { Split } from '../sync/split.ts';

/** Endpoint fields a registry may or may not be able to store. */
export type EndpointField = Exclude<keyof Endpoint, 'address' | 'ports'>;

/**
 * One read of what this bridge owns for one service. Each sink extends it with the native
 * records it read, so `plan` can compare everything it renders without reading again.
 */
export interface SinkState {
  readonly ref: ServiceRef;
  /**
   * What is owned, in model form, or undefined when nothing is: the deletion guard counts its
   * endpoints, status and `isthmus plan` report them. The fields named by `Sink.fields`
   * round-trip exactly.
   */
  readonly observed: ServiceSnapshot | undefined;
}

/** One native write a plan would make, described for `isthmus plan`, logs and tests. */
export interface SinkOperation {
  readonly verb: 'create' | 'update' | 'delete';
  /** The native record, e.g. `Service shop/orders`, `instance 1a2b3c4d5e6f7a8b`, a znode path. */
  readonly record: string;
}

/** Part of a desired state the sink will not write, with why; shown as quarantined in status. */
export interface SinkRefusal {
  /** What was refused: an endpoint's origin id, an annotation, a port name… */
  readonly nativeId: string;
  readonly reason: string;
}

/**
 * What the engine knows about a service besides its endpoints, for sinks that enforce it natively.
 * Only the split so far: a sink that routes by it (the Kubernetes sink's Istio mode writes it into
 * a VirtualService) reads it here instead of from rescaled endpoint weights.
 */
export interface PlanHints {
  /** The service's migration split (registry id → share), when one is in force. */
  readonly split?: Split;
}

/** The native writes that turn one read state into one desired state; empty = in sync. */
export interface SinkPlan {
  readonly operations: readonly SinkOperation[];
  /** What the desired state asked for that this registry cannot hold (the rest is written). */
  readonly refusals?: readonly SinkRefusal[];
}

/**
 * Write side of a registry. Sees and touches only records carrying this bridge's `managed-by`.
 *
 * Contract (DESIGN §3), per pass and per service: one `read`, one pure `plan`, one `execute`.
 * - `read` returns what this bridge owns for `ref` now. It may be called at any time.
 * - `plan(state, desired)` compares everything the sink renders — endpoint fields, health and
 *   service-level shape such as ports, annotations, Dubbo interfaces and metadata revision — and
 *   lists only the writes that differ. Pure: no I/O, same answer for the same input, so a second
 *   pass and a restart plan nothing. `desired` undefined means: remove every owned record of the
 *   ref. An endpoint `desired` carries as not ready is written as not ready where the registry
 *   holds health, and withdrawn only where it cannot (the sink's README says which).
 * - `execute` performs a plan made from the latest `read` of the same ref, batched where the
 *   registry allows. Failures throw a `BridgeError`; the engine re-reads and retries with backoff.
 * - `ownedRefs` lists every ref with at least one owned record (used by resync garbage
 *   collection). It must be complete: a ref missing here is a record never cleaned up.
 * - The engine never works on the same ref twice at once; different refs may run concurrently.
 */
export interface Sink<S extends SinkState = SinkState, P extends SinkPlan = SinkPlan> {
  readonly id: RegistryId;
  /** The endpoint fields `read` round-trips besides address and ports (contract tests check them). */
  readonly fields: readonly EndpointField[];
  start(signal: AbortSignal): Promise<void>;
  read(ref: ServiceRef): Promise<S>;
  plan(state: S, desired: ServiceSnapshot | undefined, hints?: PlanHints): P;
  execute(plan: P): Promise<void>;
  ownedRefs(): Promise<readonly ServiceRef[]>;
  /**
   * Optional: true when this sink enforces `ref`'s migration split itself (given to `plan` in
   * `hints`). The engine then hands it the endpoints with their own weights, not rescaled by the
   * split, so a split change rewrites the routing object only, never every endpoint.
   */
  enforcesSplit?(ref: ServiceRef): boolean;
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

/** What this bridge owns of `ref` in `sink`, in model form (tests, cleanup, status). */
export async function observeOwned(sink: Sink, ref: ServiceRef): Promise<ServiceSnapshot | undefined> {
  return (await sink.read(ref)).observed;
}

/** Read, plan, execute: makes the owned state of `desired.ref` equal `desired`. Returns the plan. */
export async function applyDesired(sink: Sink, desired: ServiceSnapshot): Promise<SinkPlan> {
  const plan = sink.plan(await sink.read(desired.ref), desired);
  if (plan.operations.length > 0) await sink.execute(plan);
  return plan;
}

/** Removes every owned record of `ref` and nothing else. Returns the plan. */
export async function removeOwned(sink: Sink, ref: ServiceRef): Promise<SinkPlan> {
  const plan = sink.plan(await sink.read(ref), undefined);
  if (plan.operations.length > 0) await sink.execute(plan);
  return plan;
}
