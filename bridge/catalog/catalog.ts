import type { Endpoint, RegistryId, ServiceRef, ServicePort, ServiceSnapshot } from '../model/index.ts';
import { mergeShape, refKey } from '../model/index.ts';
import type { Source } from '../ports/index.ts';

/** One service as every source sees it, merged: what the resolver answers. */
export interface CatalogEntry {
  readonly ref: ServiceRef;
  /** Increases by one on every change of this entry's content; never reused, never reset. */
  readonly revision: number;
  readonly ports: readonly ServicePort[];
  /** Endpoints from every source, each with its origin. */
  readonly endpoints: readonly Endpoint[];
  /** Registries that currently list the service (even with zero endpoints). */
  readonly registries: readonly RegistryId[];
  readonly metadata: Readonly<Record<string, string>>;
}

type Listener = (entry: CatalogEntry) => void;

export interface CatalogOptions {
  /**
   * Rewrites a service's merged endpoints (same length, same order) before they are stored: the
   * migration split sets weights here. Call `refresh(ref)` when its answer for a ref changes.
   */
  readonly shape?: (ref: ServiceRef, endpoints: readonly Endpoint[]) => readonly Endpoint[];
}

/**
 * Aggregate view of all sources, indexed by ref. Sources nudge; the catalog re-reads the ref from
 * every source and bumps the revision only when the merged content really changed, so watchers
 * see one event per real change. The catalog-wide revision is the highest entry revision and
 * lets caches key on "anything changed".
 */
export class Catalog {
  readonly #sources: readonly Source[];
  readonly #entries = new Map<string, CatalogEntry>();
  readonly #fingerprints = new Map<string, string>();
  readonly #listeners = new Set<Listener>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #shape: CatalogOptions['shape'];
  #revision = 0;

  constructor(sources: readonly Source[], options: CatalogOptions = {}) {
    this.#sources = sources;
    this.#shape = options.shape;
  }

  /** Subscribes to the sources and loads what their caches already hold. */
  start(): void {
    for (const s of this.#sources) {
      this.#unsubscribe.push(s.onChange((ref) => { this.refresh(ref); }));
      for (const ref of s.keys()) this.refresh(ref);
    }
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  /** Catalog-wide revision: changes whenever any entry changes. */
  revision(): number {
    return this.#revision;
  }

  get(ref: ServiceRef): CatalogEntry | undefined {
    return this.#entries.get(refKey(ref));
  }

  list(): CatalogEntry[] {
    return [...this.#entries.values()].sort((a, b) => refKey(a.ref).localeCompare(refKey(b.ref)));
  }

  /** Called with the new entry (an entry with zero registries when the service vanished). */
  onChange(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Re-reads `ref` from every source; exposed so a full resync can re-check everything. */
  refresh(ref: ServiceRef): void {
    const key = refKey(ref);
    const registries: RegistryId[] = [];
    const endpoints: Endpoint[] = [];
    const snaps: ServiceSnapshot[] = [];
    // Sources in config order; the first to name a port or metadata key wins (mergeShape).
    for (const s of this.#sources) {
      const snap = s.get(ref);
      if (snap === undefined) continue;
      registries.push(s.id);
      endpoints.push(...snap.endpoints);
      snaps.push(snap);
    }
    endpoints.sort((a, b) => endpointOrder(a).localeCompare(endpointOrder(b)));
    const shaped = this.#shape === undefined ? endpoints : this.#shape(ref, endpoints);
    const content = { ...mergeShape(snaps), endpoints: shaped, registries };
    const fingerprint = JSON.stringify(content);
    if (this.#fingerprints.get(key) === fingerprint) return;
    // Still absent: nothing changed, so no revision and no event (sources may nudge spuriously).
    if (registries.length === 0 && !this.#entries.has(key)) return;
    const entry: CatalogEntry = { ref: { namespace: ref.namespace, name: ref.name }, revision: ++this.#revision, ...content };
    if (registries.length === 0) {
      this.#entries.delete(key);
      this.#fingerprints.delete(key);
    } else {
      this.#entries.set(key, entry);
      this.#fingerprints.set(key, fingerprint);
    }
    for (const l of this.#listeners) l(entry);
  }
}

function endpointOrder(ep: Endpoint): string {
  return `${ep.origin.registry}\u0000${ep.address}\u0000${ep.origin.nativeId}`;
}
