/**
 * Work queue of string keys with the client-go guarantees the reconciler relies on:
 * - a key is queued at most once however often it is added (dedupe);
 * - a key is never handed to two workers at once; an add while it is processing is remembered
 *   and the key comes back after `done`;
 * - adds are debounced: a key becomes ready `quietMs` after its latest add, but never later than
 *   `maxDelayMs` after the first add of the burst, so a rollout coalesces without starving;
 * - `addAfter` schedules a key (retry backoff, requeue-after) without extending a debounce.
 */
export interface QueueOptions {
  readonly quietMs: number;
  readonly maxDelayMs: number;
  readonly now?: () => number;
}

export interface QueueItem {
  readonly key: string;
  /** When the first add of the burst that made this key ready happened (epoch ms). */
  readonly firstAddedAt: number;
}

interface Pending {
  readyAt: number;
  firstAt: number;
  timer: NodeJS.Timeout;
  /** Scheduled by addAfter (a retry or a timed hold) rather than by a change. */
  delayed: boolean;
}

export class WorkQueue {
  readonly #quiet: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  readonly #ready = new Map<string, number>();
  readonly #processing = new Set<string>();
  /** Keys added while processing → first add time of that new burst. */
  readonly #dirty = new Map<string, number>();
  /** Keys asked back with addAfter while processing → when they are due. */
  readonly #deferred = new Map<string, number>();
  readonly #waiters: ((item: QueueItem | undefined) => void)[] = [];
  #closed = false;

  constructor(options: QueueOptions) {
    this.#quiet = options.quietMs;
    this.#max = options.maxDelayMs;
    this.#now = options.now ?? Date.now;
  }

  /** Number of keys waiting (pending, ready or dirty); processing keys are not counted. */
  get depth(): number {
    return this.#pending.size + this.#ready.size + this.#dirty.size;
  }

  /** Like depth, but without keys parked by addAfter: work that is due soon, not retries or holds. */
  get activeDepth(): number {
    let delayed = 0;
    for (const p of this.#pending.values()) if (p.delayed) delayed++;
    return this.depth - delayed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  add(key: string): void {
    if (this.#closed) return;
    const now = this.#now();
    if (this.#processing.has(key)) {
      if (!this.#dirty.has(key)) this.#dirty.set(key, now);
      return;
    }
    if (this.#ready.has(key)) return;
    const p = this.#pending.get(key);
    const firstAt = p?.firstAt ?? now;
    const readyAt = Math.min(now + this.#quiet, firstAt + this.#max);
    // A fresh add overrides a pending retry delay, as in client-go: new information is worth a try.
    this.#schedule(key, readyAt, firstAt, false);
  }

  /** Queues `key` after `delayMs`, or sooner if it is already due sooner. */
  addAfter(key: string, delayMs: number): void {
    if (this.#closed) return;
    const now = this.#now();
    if (this.#processing.has(key)) {
      // Usually the worker asking for its own key back (retry, timed hold): park it until done.
      const at = this.#deferred.get(key);
      this.#deferred.set(key, Math.min(at ?? Infinity, now + delayMs));
      return;
    }
    if (this.#ready.has(key)) return;
    const p = this.#pending.get(key);
    const readyAt = now + delayMs;
    if (p !== undefined && p.readyAt <= readyAt) return;
    this.#schedule(key, readyAt, p?.firstAt ?? now, true);
  }

  /** Next ready key; waits for one. Resolves undefined once the queue is shut down. */
  get(): Promise<QueueItem | undefined> {
    const item = this.#take();
    if (item !== undefined || this.#closed) return Promise.resolve(item);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` finished; a key added meanwhile is queued again (debounced from that add). */
  done(key: string): void {
    this.#processing.delete(key);
    const dirtyAt = this.#dirty.get(key);
    const deferredAt = this.#deferred.get(key);
    this.#deferred.delete(key);
    if (this.#closed) return;
    const now = this.#now();
    if (dirtyAt === undefined) {
      if (deferredAt !== undefined) this.#schedule(key, deferredAt, now, true);
      return;
    }
    // A change arrived while processing: it wins over a parked retry, as a fresh add does.
    this.#dirty.delete(key);
    this.#schedule(key, Math.min(Math.max(now, dirtyAt + this.#quiet), dirtyAt + this.#max), dirtyAt, false);
  }

  /** Stops accepting work; waiting workers get undefined. Keys in flight may still call done. */
  shutdown(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    this.#ready.clear();
    this.#dirty.clear();
    this.#deferred.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #schedule(key: string, readyAt: number, firstAt: number, delayed: boolean): void {
    const old = this.#pending.get(key);
    if (old !== undefined) clearTimeout(old.timer);
    const timer = setTimeout(() => { this.#promote(key); }, Math.max(0, readyAt - this.#now()));
    this.#pending.set(key, { readyAt, firstAt, timer, delayed });
  }

  #promote(key: string): void {
    const p = this.#pending.get(key);
    if (p === undefined) return;
    this.#pending.delete(key);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#processing.add(key);
      waiter({ key, firstAddedAt: p.firstAt });
    } else {
      this.#ready.set(key, p.firstAt);
    }
  }

  #take(): QueueItem | undefined {
    const next = this.#ready.entries().next();
    if (next.done === true) return undefined;
    const [key, firstAddedAt] = next.value;
    this.#ready.delete(key);
    this.#processing.add(key);
    return { key, firstAddedAt };
  }
}
