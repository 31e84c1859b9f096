import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey, sameValue } from '../../bridge/model/index.ts';
import type { QuarantinedRecord, SourceHealth } from '../../bridge/ports/index.ts';
import { mergeParts } from './merge-parts.ts';
import { HealthTracker, type HealthStart } from './source-health.ts';

/** A native record a conversion refused, with why (the cache adds the registry and `since`). */
export interface Refusal {
  readonly nativeId: string;
  readonly reason: string;
  readonly ref?: ServiceRef;
}

/** What one native object or watch produced: snapshots (any number of refs) and refusals. */
export interface PartContent {
  readonly snapshots: readonly ServiceSnapshot[];
  readonly quarantined?: readonly Refusal[];
}

interface Part {
  readonly snapshots: ReadonlyMap<string, ServiceSnapshot>;
  readonly quarantined: readonly QuarantinedRecord[];
}

/**
 * The cache behind every source. Registries report per native object (a Consul or Nacos
 * service, a Kubernetes Service, a Dubbo directory), and one object can yield several refs while
 * one ref can be fed by several objects; so the cache holds named parts, each replaced whole by
 * a successful read, and serves per ref the merge of the parts that name it. Parts change only
 * when the source says so, never on a failure: an outage freezes what was last seen.
 */
export class SourceCache {
  readonly #registry: RegistryId;
  readonly #parts = new Map<string, Part>();
  /** Ref key → the parts that currently feed it. */
  readonly #feeders = new Map<string, Set<string>>();
  readonly #merged = new Map<string, ServiceSnapshot>();
  readonly #listeners = new Set<(ref: ServiceRef) => void>();
  readonly #health: HealthTracker;
  #synced = false;

  constructor(registry: RegistryId, health?: HealthStart) {
    this.#registry = registry;
    this.#health = new HealthTracker(health);
  }

  /**
   * Lazily: the engine asks whether a source went empty on every reconcile, and a copy of every
   * key for that made each reconcile O(services) (seconds of CPU over a 10,000-service sync).
   */
  *keys(): IterableIterator<ServiceRef> {
    for (const s of this.#merged.values()) yield s.ref;
  }

  /** Services held. */
  get size(): number {
    return this.#merged.size;
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#merged.get(refKey(ref));
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Names of the parts held now, optionally only those starting with `prefix`. */
  parts(prefix = ''): string[] {
    return [...this.#parts.keys()].filter((p) => p.startsWith(prefix));
  }

  /**
   * Swaps what `part` says, and nudges exactly the refs whose merged content changed or that
   * went away. Returns the refusals that are new (to log each once, not on every read).
   */
  replace(part: string, content: PartContent): QuarantinedRecord[] {
    const old = this.#parts.get(part);
    const fresh: QuarantinedRecord[] = [];
    const quarantined = this.#quarantine(old?.quarantined ?? [], content.quarantined ?? [], fresh);
    const snapshots = new Map(content.snapshots.map((s) => [refKey(s.ref), s]));
    if (snapshots.size === 0 && quarantined.length === 0) this.#parts.delete(part);
    else this.#parts.set(part, { snapshots, quarantined });

    const touched = [...snapshots.keys(), ...[...(old?.snapshots.keys() ?? [])].filter((k) => !snapshots.has(k))];
    for (const key of touched) {
      const feeders = this.#feeders.get(key) ?? new Set<string>();
      if (snapshots.has(key)) feeders.add(part);
      else feeders.delete(part);
      if (feeders.size === 0) this.#feeders.delete(key);
      else this.#feeders.set(key, feeders);
    }
    // Listeners hear about a ref only once the whole part is in, so a re-read sees all of it.
    const changed = touched.map((key) => this.#remerge(key)).filter((ref) => ref !== undefined);
    for (const ref of changed) this.#emit(ref);
    return fresh;
  }

  /** The native object is gone (seen on a successful read): its snapshots and refusals go too. */
  drop(part: string): void {
    this.replace(part, { snapshots: [] });
  }

  /** Records left out, part by part in name order, each with the time it was first refused. */
  quarantined(): QuarantinedRecord[] {
    return [...this.#parts.keys()].sort().flatMap((p) => this.#parts.get(p)?.quarantined ?? []);
  }

  /**
   * Nudges every cached ref. Used when a registry is reachable again: removals the engine held
   * during the outage must be looked at again even if nothing changed, and a nudge is cheap
   * because the engine re-reads level-triggered.
   */
  nudgeAll(): void {
    for (const ref of this.keys()) this.#emit(ref);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** The first complete list is in; stays true for good. */
  markSynced(): void {
    this.#synced = true;
  }

  health(): SourceHealth {
    return this.#health.health();
  }

  get reachable(): boolean {
    return this.#health.reachable;
  }

  /** The registry answered on `channel`; true when that made the source reachable again. */
  contact(channel?: string): boolean {
    return this.#health.contact(channel);
  }

  /** `channel` failed; true when it was fine until now (log once per outage). */
  lost(message: string, channel?: string): boolean {
    return this.#health.lost(message, channel);
  }

  /** A record refused again keeps its first `since`: status shows how long it has been out. */
  #quarantine(before: readonly QuarantinedRecord[], refusals: readonly Refusal[], fresh: QuarantinedRecord[]): QuarantinedRecord[] {
    const since = new Map<string, number>();
    for (const q of before) if (!since.has(q.nativeId)) since.set(q.nativeId, q.since);
    const now = Date.now();
    return refusals.map((r) => {
      const prior = since.get(r.nativeId);
      const record: QuarantinedRecord = { registry: this.#registry, nativeId: r.nativeId, ...(r.ref === undefined ? {} : { ref: r.ref }), reason: r.reason, since: prior ?? now };
      if (prior === undefined) fresh.push(record);
      return record;
    });
  }

  /** Recomputes one ref from its parts; returns the ref when listeners must hear of it. */
  #remerge(key: string): ServiceRef | undefined {
    const names = [...(this.#feeders.get(key) ?? [])].sort();
    const next = mergeParts(names.map((p) => this.#parts.get(p)?.snapshots.get(key)).filter((s) => s !== undefined));
    const before = this.#merged.get(key);
    if (next === undefined) {
      this.#merged.delete(key);
      return before?.ref;
    }
    // The newest read is kept even when equal, so its revision is current.
    this.#merged.set(key, next);
    return before !== undefined && sameContent(before, next) ? undefined : next.ref;
  }

  #emit(ref: ServiceRef): void {
    for (const l of this.#listeners) l(ref);
  }
}

/** Equal apart from the revision, which moves on every read or push and means nothing by itself. */
function sameContent(a: ServiceSnapshot, b: ServiceSnapshot): boolean {
  return sameValue({ ...a, revision: undefined }, { ...b, revision: undefined });
}
