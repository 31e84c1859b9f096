import type { Catalog, CatalogEntry } from '../catalog/index.ts';
import { refKey, type ServiceRef } from '../model/index.ts';

/** Someone following one service: a long-poll waiting for its next change, or an event stream. */
export interface Watcher {
  /** The service's entry changed; it has zero registries when the service vanished. */
  changed(entry: CatalogEntry): void;
  /** The resolver is shutting down: answer now and let the client reconnect elsewhere. */
  drained(): void;
}

export type WaitOutcome = 'changed' | 'timeout' | 'aborted' | 'drained';

export interface WatchHubOptions {
  /**
   * Deleted services whose deletion index is remembered, so a watcher holding an older index
   * learns about the deletion at once. Beyond this, the oldest are forgotten and a watcher of a
   * forgotten one learns at the end of its wait instead (still correct, just later).
   */
  readonly maxTombstones?: number;
  /** A watcher threw; it runs inside the catalog's change path, which must never see that. */
  readonly onError?: (err: unknown) => void;
  /** Watchers at once; `full` turns true at this many (the transports refuse new watches). */
  readonly maxWatchers?: number;
}

/**
 * Fans catalog changes out to the watchers of each service. One catalog subscription serves
 * every watcher, and a change wakes only the watchers of its own ref (a per-ref set lookup), so
 * 1,000 idle long-polls cost nothing until their service changes; nothing polls.
 *
 * Indexes are the catalog's revisions: one counter for all entries, so an entry's revision, a
 * deletion's revision and the catalog revision are comparable. Everything here runs on the event
 * loop in the catalog's synchronous change path, so "check the index, then start waiting" cannot
 * miss a change in between.
 */
export class WatchHub {
  readonly #catalog: Catalog;
  readonly #watchers = new Map<string, Set<Watcher>>();
  /** Watchers of every service (the console's catalog stream); counted in the same bound. */
  readonly #everything = new Set<Watcher>();
  /** ref key → revision of its deletion; Map order is insertion order, oldest first. */
  readonly #tombstones = new Map<string, number>();
  readonly #maxTombstones: number;
  readonly #onError: (err: unknown) => void;
  readonly #maxWatchers: number;
  #count = 0;
  #unsubscribe: (() => void) | undefined;
  #draining = false;

  constructor(catalog: Catalog, options: WatchHubOptions = {}) {
    this.#catalog = catalog;
    this.#maxTombstones = options.maxTombstones ?? 10_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#maxWatchers = options.maxWatchers ?? Infinity;
  }

  start(): void {
    this.#unsubscribe ??= this.#catalog.onChange((entry) => { this.#onCatalogChange(entry); });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Open long-polls and streams, for tests and metrics. */
  watcherCount(): number {
    return this.#count;
  }

  /**
   * True at maxWatchers: a new watch must be refused. Checked and followed by `watch` in the same
   * synchronous step, so two callers cannot both take the last place.
   */
  get full(): boolean {
    return this.#count >= this.#maxWatchers;
  }

  /**
   * The index an answer about `ref` carries (X-Isthmus-Index, event id): the entry's revision,
   * else the revision of its deletion, else the catalog revision (a service never seen here).
   */
  index(ref: ServiceRef): number {
    return this.#catalog.get(ref)?.revision ?? this.#tombstones.get(refKey(ref)) ?? this.#catalog.revision();
  }

  /**
   * Whether a client holding `index` is out of date for `ref`. An index ahead of the catalog comes
   * from before a restart (revisions start again at zero): treat it as stale rather than let the
   * client block until the counter catches up.
   */
  changedSince(ref: ServiceRef, index: number): boolean {
    if (index > this.#catalog.revision()) return true;
    const entry = this.#catalog.get(ref);
    if (entry !== undefined) return entry.revision > index;
    // Absent: only a deletion the client has not seen is news. The catalog revision reported for
    // a never-seen service is deliberately not compared, or every unrelated change would wake it.
    return (this.#tombstones.get(refKey(ref)) ?? 0) > index;
  }

  /** Follows `ref` until the returned function is called. */
  watch(ref: ServiceRef, watcher: Watcher): () => void {
    const key = refKey(ref);
    let set = this.#watchers.get(key);
    if (set === undefined) {
      set = new Set();
      this.#watchers.set(key, set);
    }
    if (!set.has(watcher)) this.#count++;
    set.add(watcher);
    return () => {
      const current = this.#watchers.get(key);
      if (current === undefined || !current.delete(watcher)) return;
      this.#count--;
      if (current.size === 0) this.#watchers.delete(key);
    };
  }

  /** Follows every service until the returned function is called; counted like `watch`. */
  watchAll(watcher: Watcher): () => void {
    if (!this.#everything.has(watcher)) this.#count++;
    this.#everything.add(watcher);
    return () => {
      if (this.#everything.delete(watcher)) this.#count--;
    };
  }

  /**
   * Resolves when `ref` has changed since `index` (at once if it already has), after `ms`, when
   * `signal` aborts (client gone) or on drain. Never rejects, and leaves no watcher or timer behind.
   */
  wait(ref: ServiceRef, index: number, ms: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (this.changedSince(ref, index)) return Promise.resolve('changed');
    if (this.#draining) return Promise.resolve('drained');
    if (signal?.aborted === true) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: WaitOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unwatch();
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = (): void => { finish('aborted'); };
      const unwatch = this.watch(ref, { changed: () => { finish('changed'); }, drained: () => { finish('drained'); } });
      const timer = setTimeout(() => { finish('timeout'); }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends every wait and stream now, and makes later waits answer at once. Idempotent. */
  drain(): void {
    this.#draining = true;
    const all = [...this.#watchers.values()].flatMap((set) => [...set]).concat([...this.#everything]);
    this.#watchers.clear();
    this.#everything.clear();
    this.#count = 0;
    for (const w of all) this.#call(() => { w.drained(); });
  }

  #onCatalogChange(entry: CatalogEntry): void {
    const key = refKey(entry.ref);
    if (entry.registries.length === 0) {
      this.#tombstones.delete(key);
      this.#tombstones.set(key, entry.revision);
      if (this.#tombstones.size > this.#maxTombstones) {
        const oldest = this.#tombstones.keys().next();
        if (oldest.done !== true) this.#tombstones.delete(oldest.value);
      }
    } else {
      this.#tombstones.delete(key);
    }
    for (const w of [...this.#everything]) this.#call(() => { w.changed(entry); });
    const set = this.#watchers.get(key);
    if (set === undefined) return;
    // Copy: a woken long-poll unsubscribes itself while we iterate.
    for (const w of [...set]) this.#call(() => { w.changed(entry); });
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#onError(err);
    }
  }
}
