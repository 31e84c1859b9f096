import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey, refProblem } from '../../bridge/model/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import { SourceCache } from '../shared/source-cache.ts';
import type { MemoryRegistry, StoredService } from './registry.ts';

/**
 * Source view of a MemoryRegistry with a real cache, so it behaves like a watched registry:
 * while "disconnected" the cache keeps the last known state (freeze) and changes are missed;
 * `reconnect` relists and nudges every ref that differs, as a real watch recovery does.
 */
export class MemorySource implements Source {
  readonly id: RegistryId;
  readonly #registry: MemoryRegistry;
  /** One part per stored service, named by its ref key. */
  readonly #cache: SourceCache;
  #connected = true;
  #unsubscribe: (() => void) | undefined;

  constructor(id: RegistryId, registry: MemoryRegistry) {
    this.id = id;
    this.#registry = registry;
    this.#cache = new SourceCache(id);
  }

  start(signal: AbortSignal): Promise<void> {
    this.#unsubscribe = this.#registry.onChange((ref) => {
      if (this.#connected) this.#refresh(ref);
    });
    signal.addEventListener('abort', () => this.#unsubscribe?.(), { once: true });
    this.#relist();
    this.#cache.markSynced();
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return this.#cache.hasSynced();
  }

  health(): SourceHealth {
    return this.#cache.health();
  }

  keys(): Iterable<ServiceRef> {
    return this.#cache.keys();
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#cache.get(ref);
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    return this.#cache.onChange(listener);
  }

  quarantined(): readonly QuarantinedRecord[] {
    return this.#cache.quarantined();
  }

  /** Simulates losing the registry: the cache freezes and health reports unreachable. */
  disconnect(reason = 'connection refused'): void {
    this.#connected = false;
    // It answered right up to this moment.
    this.#cache.contact();
    this.#cache.lost(reason);
  }

  /** Simulates the watch coming back: a full relist, nudging what changed meanwhile. */
  reconnect(): void {
    this.#connected = true;
    this.#cache.contact();
    this.#relist();
  }

  #relist(): void {
    const seen = new Set<string>();
    for (const svc of this.#registry.services()) {
      seen.add(refKey(svc.ref));
      this.#refresh(svc.ref);
    }
    for (const part of this.#cache.parts()) if (!seen.has(part)) this.#cache.drop(part);
  }

  #refresh(ref: ServiceRef): void {
    const key = refKey(ref);
    const svc = this.#registry.service(ref);
    const problem = svc === undefined ? undefined : refProblem(svc.ref);
    if (problem !== undefined) {
      this.#cache.replace(key, { snapshots: [], quarantined: [{ nativeId: key, reason: problem }] });
      return;
    }
    const snap = svc === undefined ? undefined : toSnapshot(this.id, svc);
    this.#cache.replace(key, { snapshots: snap === undefined ? [] : [snap] });
  }
}

/**
 * Native records only: anything a bridge wrote (any owner) is skipped, and a service a bridge
 * created is invisible unless it also holds native endpoints (loop prevention, DESIGN §4).
 */
function toSnapshot(origin: RegistryId, svc: StoredService): ServiceSnapshot | undefined {
  const endpoints = [...svc.endpoints.values()].filter((e) => e.owner === undefined).map((e) => e.endpoint);
  if (svc.createdBy !== undefined && endpoints.length === 0) return undefined;
  return { ref: svc.ref, ports: svc.ports, endpoints, metadata: svc.metadata, origin };
}
