import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey, refProblem, sameValue } from '../../bridge/model/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { MemoryRegistry, StoredService } from './registry.ts';

/**
 * Source view of a MemoryRegistry with a real cache, so it behaves like a watched registry:
 * while "disconnected" the cache keeps the last known state (freeze) and changes are missed;
 * `reconnect` relists and nudges every ref that differs, as a real watch recovery does.
 */
export class MemorySource implements Source {
  readonly id: RegistryId;
  readonly #registry: MemoryRegistry;
  readonly #cache = new Map<string, ServiceSnapshot>();
  readonly #listeners = new Set<(ref: ServiceRef) => void>();
  /** Services whose identity the model cannot carry, by native key, with why. */
  readonly #quarantine = new Map<string, QuarantinedRecord>();
  #synced = false;
  #connected = true;
  #lastContact = Date.now();
  #lastError: string | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(id: RegistryId, registry: MemoryRegistry) {
    this.id = id;
    this.#registry = registry;
  }

  start(signal: AbortSignal): Promise<void> {
    this.#unsubscribe = this.#registry.onChange((ref) => {
      if (this.#connected) this.#refresh(ref);
    });
    signal.addEventListener('abort', () => this.#unsubscribe?.(), { once: true });
    this.#relist();
    this.#synced = true;
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  health(): SourceHealth {
    const base = { reachable: this.#connected, lastContact: this.#connected ? Date.now() : this.#lastContact };
    return this.#lastError === undefined ? base : { ...base, lastError: this.#lastError };
  }

  keys(): Iterable<ServiceRef> {
    return [...this.#cache.values()].map((s) => s.ref);
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#cache.get(refKey(ref));
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  quarantined(): readonly QuarantinedRecord[] {
    return [...this.#quarantine.values()];
  }

  /** Simulates losing the registry: the cache freezes and health reports unreachable. */
  disconnect(reason = 'connection refused'): void {
    this.#connected = false;
    this.#lastContact = Date.now();
    this.#lastError = reason;
  }

  /** Simulates the watch coming back: a full relist, nudging what changed meanwhile. */
  reconnect(): void {
    this.#connected = true;
    this.#lastError = undefined;
    this.#relist();
  }

  #relist(): void {
    const seen = new Set<string>();
    for (const svc of this.#registry.services()) {
      seen.add(refKey(svc.ref));
      this.#refresh(svc.ref);
    }
    for (const key of this.#quarantine.keys()) if (!seen.has(key)) this.#quarantine.delete(key);
    for (const [key, snap] of this.#cache) {
      if (!seen.has(key)) {
        this.#cache.delete(key);
        this.#emit(snap.ref);
      }
    }
  }

  #refresh(ref: ServiceRef): void {
    const key = refKey(ref);
    const svc = this.#registry.service(ref);
    const problem = svc === undefined ? undefined : refProblem(svc.ref);
    if (problem !== undefined) {
      if (!this.#quarantine.has(key)) this.#quarantine.set(key, { registry: this.id, nativeId: key, reason: problem, since: Date.now() });
      return;
    }
    this.#quarantine.delete(key);
    const snap = svc === undefined ? undefined : toSnapshot(this.id, svc);
    const old = this.#cache.get(key);
    if (snap === undefined) {
      if (old === undefined) return;
      this.#cache.delete(key);
    } else {
      if (old !== undefined && sameValue(old, snap)) return;
      this.#cache.set(key, snap);
    }
    this.#emit(ref);
  }

  #emit(ref: ServiceRef): void {
    for (const l of this.#listeners) l(ref);
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
