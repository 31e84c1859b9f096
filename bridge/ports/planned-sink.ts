import type { RegistryId, ServiceRef, ServiceSnapshot } from '../model/index.ts';
import type { EndpointField, PlanHints, Sink, SinkPlan, SinkState } from './sink.ts';
import { applyDesired, observeOwned, removeOwned } from './sink.ts';

/**
 * Base of every adapter's sink: the port's read/plan/execute plus the whole-service shorthands
 * that cleanup, the contract suite and adapter tests use. The engine itself calls only the port.
 */
export abstract class PlannedSink<S extends SinkState, P extends SinkPlan> implements Sink<S, P> {
  abstract readonly id: RegistryId;
  abstract readonly fields: readonly EndpointField[];
  abstract start(signal: AbortSignal): Promise<void>;
  abstract read(ref: ServiceRef): Promise<S>;
  abstract plan(state: S, desired: ServiceSnapshot | undefined, hints?: PlanHints): P;
  abstract execute(plan: P): Promise<void>;
  abstract ownedRefs(): Promise<readonly ServiceRef[]>;

  observe(ref: ServiceRef): Promise<ServiceSnapshot | undefined> {
    return observeOwned(this, ref);
  }

  async apply(desired: ServiceSnapshot): Promise<void> {
    await applyDesired(this, desired);
  }

  async remove(ref: ServiceRef): Promise<void> {
    await removeOwned(this, ref);
  }
}
