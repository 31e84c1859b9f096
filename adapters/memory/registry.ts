import type { Endpoint, Ownership, ServicePort, ServiceRef } from '../../bridge/model/index.ts';
import { endpointKey, refKey } from '../../bridge/model/index.ts';

/** An endpoint as the memory registry stores it; `owner` plays the role of the native markers. */
export interface StoredEndpoint {
  readonly endpoint: Endpoint;
  readonly owner?: Ownership;
}

export interface StoredService {
  readonly ref: ServiceRef;
  readonly ports: readonly ServicePort[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Bridge id of the bridge that created the service, if a bridge did. */
  readonly createdBy?: string;
  readonly endpoints: ReadonlyMap<string, StoredEndpoint>;
}

/**
 * A registry in memory, standing in for Nacos, Consul or ZooKeeper in unit tests, benchmarks and
 * the no-server demo. Like a real registry it knows nothing about Isthmus: the source and sink
 * views on top of it apply the ownership rules. Every record write is counted so tests can prove
 * "zero writes" and benchmarks can count writes per change.
 */
export class MemoryRegistry {
  readonly #services = new Map<string, { ref: ServiceRef; ports: ServicePort[]; metadata: Record<string, string>; createdBy?: string; endpoints: Map<string, StoredEndpoint> }>();
  readonly #listeners = new Set<(ref: ServiceRef) => void>();
  /** Record-level writes (one per endpoint or service record created, changed or deleted). */
  writes = 0;

  services(): StoredService[] {
    return [...this.#services.values()];
  }

  service(ref: ServiceRef): StoredService | undefined {
    return this.#services.get(refKey(ref));
  }

  /** Creates or updates a service record (ports and metadata); counts a write only on change. */
  upsertService(ref: ServiceRef, ports: readonly ServicePort[], metadata: Readonly<Record<string, string>>, createdBy?: string): void {
    const key = refKey(ref);
    const old = this.#services.get(key);
    if (old !== undefined && JSON.stringify([old.ports, old.metadata]) === JSON.stringify([ports, metadata])) return;
    this.#services.set(key, {
      ref: { namespace: ref.namespace, name: ref.name },
      ports: [...ports],
      metadata: { ...metadata },
      ...(old?.createdBy !== undefined ? { createdBy: old.createdBy } : createdBy === undefined ? {} : { createdBy }),
      endpoints: old?.endpoints ?? new Map<string, StoredEndpoint>(),
    });
    this.writes++;
    this.#emit(ref);
  }

  /** Writes one endpoint record (creating the service if needed). */
  putEndpoint(ref: ServiceRef, endpoint: Endpoint, owner?: Ownership): void {
    let svc = this.#services.get(refKey(ref));
    if (svc === undefined) {
      this.upsertService(ref, [], {}, owner?.managedBy);
      svc = this.#services.get(refKey(ref));
      if (svc === undefined) return;
    }
    svc.endpoints.set(endpointKey(endpoint), owner === undefined ? { endpoint } : { endpoint, owner });
    this.writes++;
    this.#emit(ref);
  }

  deleteEndpoint(ref: ServiceRef, key: string): void {
    const svc = this.#services.get(refKey(ref));
    if (svc?.endpoints.delete(key) !== true) return;
    this.writes++;
    this.#emit(ref);
  }

  deleteService(ref: ServiceRef): void {
    if (!this.#services.delete(refKey(ref))) return;
    this.writes++;
    this.#emit(ref);
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(ref: ServiceRef): void {
    for (const l of this.#listeners) l(ref);
  }
}
