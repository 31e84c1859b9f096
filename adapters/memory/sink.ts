import type { Endpoint, RegistryId, ServicePort, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey, refKey, sameValue } from '../../bridge/model/index.ts';
import type { EndpointField, SinkOperation, SinkPlan, SinkState } from '../../bridge/ports/index.ts';
import { PlannedSink } from '../../bridge/ports/index.ts';
import type { MemoryRegistry, StoredService } from './registry.ts';

const ALL_FIELDS: readonly EndpointField[] = ['protocol', 'ready', 'serving', 'terminating', 'weight', 'zone', 'node', 'metadata', 'origin'];

interface MemoryState extends SinkState {
  readonly service: StoredService | undefined;
  readonly owned: ReadonlyMap<string, Endpoint>;
}

interface MemoryPlan extends SinkPlan {
  readonly ref: ServiceRef;
  readonly service?: { readonly ports: readonly ServicePort[]; readonly metadata: Readonly<Record<string, string>> };
  readonly put: readonly Endpoint[];
  readonly delete: readonly string[];
  readonly deleteService: boolean;
}

/** Sink view of a MemoryRegistry: writes carry this bridge's owner; only those are seen or touched. */
export class MemorySink extends PlannedSink<MemoryState, MemoryPlan> {
  readonly id: RegistryId;
  readonly fields = ALL_FIELDS;
  readonly #registry: MemoryRegistry;
  readonly #bridgeId: string;
  /** Test hook: makes every call fail, as an unreachable registry would. */
  failing: Error | undefined;
  /** Test hook: requests made to the registry (read, ownedRefs, execute), failed ones included. */
  calls = 0;

  constructor(id: RegistryId, registry: MemoryRegistry, bridgeId: string) {
    super();
    this.id = id;
    this.#registry = registry;
    this.#bridgeId = bridgeId;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  read(ref: ServiceRef): Promise<MemoryState> {
    this.#check();
    const service = this.#registry.service(ref);
    const owned = new Map<string, Endpoint>();
    for (const [key, e] of service?.endpoints ?? []) if (e.owner?.managedBy === this.#bridgeId) owned.set(key, e.endpoint);
    const ours = service !== undefined && (owned.size > 0 || service.createdBy === this.#bridgeId);
    const observed = ours ? { ref: service.ref, ports: service.ports, endpoints: [...owned.values()], metadata: service.metadata, origin: this.id } : undefined;
    return Promise.resolve({ ref, observed, service, owned });
  }

  plan(state: MemoryState, desired: ServiceSnapshot | undefined): MemoryPlan {
    const ops: SinkOperation[] = [];
    const { service, owned } = state;
    const mayShape = service === undefined || service.createdBy === this.#bridgeId;
    let shape: MemoryPlan['service'];
    if (desired !== undefined && mayShape && (service === undefined || !sameShape(service, desired))) {
      shape = { ports: desired.ports, metadata: desired.metadata };
      ops.push({ verb: service === undefined ? 'create' : 'update', record: `service ${refKey(state.ref)}` });
    }
    const left = new Map(owned);
    const put: Endpoint[] = [];
    for (const ep of desired?.endpoints ?? []) {
      const key = endpointKey(ep);
      const current = left.get(key);
      left.delete(key);
      if (current !== undefined && sameValue(current, ep)) continue;
      put.push(ep);
      ops.push({ verb: current === undefined ? 'create' : 'update', record: `endpoint ${key}` });
    }
    for (const key of left.keys()) ops.push({ verb: 'delete', record: `endpoint ${key}` });
    const foreign = service === undefined ? 0 : service.endpoints.size - owned.size;
    const deleteService = desired === undefined && service?.createdBy === this.#bridgeId && foreign === 0;
    if (deleteService) ops.push({ verb: 'delete', record: `service ${refKey(state.ref)}` });
    return { operations: ops, ref: state.ref, ...(shape === undefined ? {} : { service: shape }), put, delete: [...left.keys()], deleteService };
  }

  execute(plan: MemoryPlan): Promise<void> {
    this.#check();
    if (plan.service !== undefined) this.#registry.upsertService(plan.ref, plan.service.ports, plan.service.metadata, this.#bridgeId);
    for (const ep of plan.put) {
      this.#registry.putEndpoint(plan.ref, ep, { managedBy: this.#bridgeId, origin: ep.origin.registry, originId: ep.origin.nativeId });
    }
    for (const key of plan.delete) this.#registry.deleteEndpoint(plan.ref, key);
    if (plan.deleteService && this.#registry.service(plan.ref)?.endpoints.size === 0) this.#registry.deleteService(plan.ref);
    return Promise.resolve();
  }

  ownedRefs(): Promise<readonly ServiceRef[]> {
    this.#check();
    const refs = this.#registry
      .services()
      .filter((s) => s.createdBy === this.#bridgeId || [...s.endpoints.values()].some((e) => e.owner?.managedBy === this.#bridgeId))
      .map((s) => s.ref);
    return Promise.resolve(refs);
  }

  #check(): void {
    this.calls++;
    if (this.failing !== undefined) throw this.failing;
  }
}

function sameShape(service: StoredService, desired: ServiceSnapshot): boolean {
  return sameValue(service.ports, desired.ports) && sameValue(service.metadata, desired.metadata);
}
