import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey } from '../../bridge/model/index.ts';
import type { EndpointField, Sink } from '../../bridge/ports/index.ts';
import type { MemoryRegistry } from './registry.ts';

const ALL_FIELDS: readonly EndpointField[] = ['protocol', 'ready', 'serving', 'terminating', 'weight', 'zone', 'node', 'metadata', 'origin'];

/** Sink view of a MemoryRegistry: writes carry this bridge's owner; only those are seen or touched. */
export class MemorySink implements Sink {
  readonly id: RegistryId;
  readonly fields = ALL_FIELDS;
  readonly #registry: MemoryRegistry;
  readonly #bridgeId: string;
  /** Test hook: makes every call fail, as an unreachable registry would. */
  failing: Error | undefined;

  constructor(id: RegistryId, registry: MemoryRegistry, bridgeId: string) {
    this.id = id;
    this.#registry = registry;
    this.#bridgeId = bridgeId;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  observe(ref: ServiceRef): Promise<ServiceSnapshot | undefined> {
    this.#check();
    const svc = this.#registry.service(ref);
    if (svc === undefined) return Promise.resolve(undefined);
    const owned = [...svc.endpoints.values()].filter((e) => e.owner?.managedBy === this.#bridgeId).map((e) => e.endpoint);
    if (owned.length === 0 && svc.createdBy !== this.#bridgeId) return Promise.resolve(undefined);
    return Promise.resolve({ ref: svc.ref, ports: svc.ports, endpoints: owned, metadata: svc.metadata, origin: this.id });
  }

  ownedRefs(): Promise<readonly ServiceRef[]> {
    this.#check();
    const refs = this.#registry
      .services()
      .filter((s) => s.createdBy === this.#bridgeId || [...s.endpoints.values()].some((e) => e.owner?.managedBy === this.#bridgeId))
      .map((s) => s.ref);
    return Promise.resolve(refs);
  }

  apply(desired: ServiceSnapshot): Promise<void> {
    this.#check();
    const { ref } = desired;
    const existing = this.#registry.service(ref);
    if (existing === undefined || existing.createdBy === this.#bridgeId) {
      this.#registry.upsertService(ref, desired.ports, desired.metadata, this.#bridgeId);
    }
    const owned = new Map<string, Endpoint>();
    for (const [key, e] of this.#registry.service(ref)?.endpoints ?? []) {
      if (e.owner?.managedBy === this.#bridgeId) owned.set(key, e.endpoint);
    }
    for (const ep of desired.endpoints) {
      const key = endpointKey(ep);
      const current = owned.get(key);
      owned.delete(key);
      if (current !== undefined && JSON.stringify(current) === JSON.stringify(ep)) continue;
      this.#registry.putEndpoint(ref, ep, { managedBy: this.#bridgeId, origin: ep.origin.registry, originId: ep.origin.nativeId });
    }
    for (const key of owned.keys()) this.#registry.deleteEndpoint(ref, key);
    return Promise.resolve();
  }

  remove(ref: ServiceRef): Promise<void> {
    this.#check();
    const svc = this.#registry.service(ref);
    if (svc === undefined) return Promise.resolve();
    for (const [key, e] of svc.endpoints) if (e.owner?.managedBy === this.#bridgeId) this.#registry.deleteEndpoint(ref, key);
    if (svc.createdBy === this.#bridgeId && svc.endpoints.size === 0) this.#registry.deleteService(ref);
    return Promise.resolve();
  }

  #check(): void {
    if (this.failing !== undefined) throw this.failing;
  }
}
