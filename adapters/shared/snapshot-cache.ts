import type { ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey, sameValue } from '../../bridge/model/index.ts';

/**
 * The cache of a watch-based source: snapshots by ref, plus the change listeners the engine
 * registers. Registries report per native service, and one native service can yield several
 * refs (one per canonical namespace), so `replace` swaps the refs one native service produced
 * as a group and nudges exactly those whose content changed or that went away.
 */
export class SnapshotCache {
  readonly #byKey = new Map<string, ServiceSnapshot>();
  readonly #listeners = new Set<(ref: ServiceRef) => void>();

  keys(): ServiceRef[] {
    return [...this.#byKey.values()].map((s) => s.ref);
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#byKey.get(refKey(ref));
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Swaps the snapshots of one native service. `previous` is the set of ref keys it produced
   * last time (the returned set, kept by the caller); refs it no longer produces are dropped.
   */
  replace(previous: ReadonlySet<string>, snapshots: readonly ServiceSnapshot[]): Set<string> {
    const next = new Set<string>();
    for (const snap of snapshots) {
      const key = refKey(snap.ref);
      next.add(key);
      const old = this.#byKey.get(key);
      if (old !== undefined && sameContent(old, snap)) continue;
      this.#byKey.set(key, snap);
      this.#emit(snap.ref);
    }
    for (const key of previous) {
      if (next.has(key)) continue;
      const old = this.#byKey.get(key);
      if (old === undefined) continue;
      this.#byKey.delete(key);
      this.#emit(old.ref);
    }
    return next;
  }

  /**
   * Nudges every cached ref. Used when a registry is reachable again: removals the engine held
   * during the outage must be looked at again even if nothing changed, and a nudge is cheap
   * because the engine re-reads level-triggered.
   */
  nudgeAll(): void {
    for (const snap of [...this.#byKey.values()]) this.#emit(snap.ref);
  }

  #emit(ref: ServiceRef): void {
    for (const l of this.#listeners) l(ref);
  }
}

/** Equal apart from the revision, which moves on every read or push and means nothing by itself. */
export function sameContent(a: ServiceSnapshot, b: ServiceSnapshot): boolean {
  return sameValue({ ...a, revision: '' }, { ...b, revision: '' });
}
