import NodeCache from 'node-cache';

export interface ResponseCacheOptions {
  /** Seconds an unused slot lives; short, because a slot only saves one serialization. */
  readonly ttlSeconds?: number;
  /** Bound on slots (one per route × service × filter set asked for). */
  readonly maxKeys?: number;
}

interface Slot {
  readonly revision: number;
  readonly body: string;
  /** The body as UTF-8, made on the first lookup that sends it. */
  bytes?: Buffer;
}

/**
 * Serialized JSON answers, so a hot lookup is a map hit plus a socket write (DESIGN §12: 20k
 * cached lookups/s). A slot is keyed by (route, ref, filters) and holds the revision its body was
 * rendered at; it is a hit only while that revision is current. This is the same identity as
 * keying by revision, but a change overwrites the slot instead of leaving a dead key behind, so
 * memory follows the services asked about, not the rate of change.
 */
export class ResponseCache {
  readonly #cache: NodeCache;
  #hits = 0;
  #misses = 0;
  /** Hits taken with peek(): lookups answered before the router (fast-lookup.ts). */
  #peeked = 0;

  constructor(options: ResponseCacheOptions = {}) {
    this.#cache = new NodeCache({
      stdTTL: options.ttlSeconds ?? 300,
      checkperiod: 60,
      maxKeys: options.maxKeys ?? 10_000,
      // Bodies are immutable strings; cloning would only cost time.
      useClones: false,
    });
  }

  /** The body for `key` at `revision`, rendering (and keeping) it on a miss. */
  body(key: readonly unknown[], revision: number, render: () => string): string {
    return this.#slot(key, revision, render).body;
  }

  /**
   * The same body as bytes, encoded once per revision: sending a string makes the server measure
   * its UTF-8 length and encode it again on every response.
   */
  bytes(key: readonly unknown[], revision: number, render: () => string): Buffer {
    const slot = this.#slot(key, revision, render);
    slot.bytes ??= Buffer.from(slot.body, 'utf8');
    return slot.bytes;
  }

  /** The bytes for `key` if they were rendered at `revision` and encoded already; never renders. */
  peek(key: readonly unknown[], revision: number): Buffer | undefined {
    const slot = this.#cache.get<Slot>(JSON.stringify(key));
    if (slot?.revision !== revision || slot.bytes === undefined) return undefined;
    this.#hits++;
    this.#peeked++;
    return slot.bytes;
  }

  #slot(key: readonly unknown[], revision: number, render: () => string): Slot {
    const k = JSON.stringify(key);
    const slot = this.#cache.get<Slot>(k);
    if (slot?.revision === revision) {
      this.#hits++;
      return slot;
    }
    this.#misses++;
    const fresh: Slot = { revision, body: render() };
    this.#store(k, fresh);
    return fresh;
  }

  stats(): { hits: number; misses: number; keys: number; peeked: number } {
    return { hits: this.#hits, misses: this.#misses, keys: this.#cache.keys().length, peeked: this.#peeked };
  }

  close(): void {
    this.#cache.flushAll();
    this.#cache.close();
  }

  #store(key: string, slot: Slot): void {
    try {
      this.#cache.set(key, slot);
    } catch {
      // ECACHEFULL (node-cache refuses even an overwrite when full). Replace our own slot if we
      // had one; otherwise serve uncached until idle slots expire. A full cache is slower, never wrong.
      if (this.#cache.del(key) > 0) {
        try {
          this.#cache.set(key, slot);
        } catch {
          // Still full: fine, see above.
        }
      }
    }
  }
}
