import { describeError } from '../../bridge/errors/index.ts';
import type { ListResult, WatchEventType, WatchHandle } from './client.ts';
import { statusOf } from './client.ts';
import type { ObjectMeta } from './types.ts';
import { objectKey } from './types.ts';
import { sleep } from './sleep.ts';

/** List and watch of one resource in one scope; a seam so the supervision logic is unit-tested. */
export interface ListWatchApi<T> {
  list(): Promise<ListResult<T>>;
  watch(resourceVersion: string, onEvent: (type: WatchEventType, obj: unknown) => void, done: (err: unknown) => void): Promise<WatchHandle>;
}

export interface ReflectorOptions<T> {
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Called for every object whose cached state changed: next undefined = deleted. */
  readonly onChange: (key: string, next: T | undefined, prev: T | undefined) => void;
  /** Called whenever reachability or sync state changes (health, readiness). */
  readonly onState?: () => void;
  /**
   * Called on every answer (list, watch start, event, bookmark) and every failure, not only on
   * changes of state: health needs the time of the last answer and the latest error.
   */
  readonly onContact?: () => void;
  readonly onFailure?: (message: string) => void;
}

/** A watch closing this fast with nothing delivered is treated as a failure, to avoid spinning. */
const MIN_HEALTHY_WATCH_MS = 1000;
/**
 * The API server sends a bookmark about once a minute on an idle watch (we ask for them), and
 * ends every watch within timeoutSeconds. A watch silent for longer sits on a dead connection
 * (a peer that vanished without RST never ends the stream): drop it and rewatch.
 */
const SILENT_WATCH_MS = 150_000;

/**
 * Our own list+watch loop instead of the client's informer, because the informer (1.x) stops for
 * good on any non-410 error, reconnects without backoff and never asks for bookmarks. This one:
 * lists, watches from the list's resourceVersion with bookmarks, rewatches from the last seen
 * resourceVersion when a watch ends, relists on 410 Gone, and backs off exponentially while the
 * API server is unreachable, keeping the cache untouched meanwhile (freeze).
 */
export class Reflector<T extends { metadata?: ObjectMeta }> {
  readonly #api: ListWatchApi<T>;
  readonly #o: ReflectorOptions<T>;
  readonly #items = new Map<string, T>();
  #rv = '';
  #synced = false;
  #reachable = false;
  #lastContact = 0;
  #lastError: string | undefined;
  #handle: WatchHandle | undefined;
  #loop: Promise<void> | undefined;

  constructor(api: ListWatchApi<T>, options: ReflectorOptions<T>) {
    this.#api = api;
    this.#o = options;
  }

  get synced(): boolean { return this.#synced; }
  get reachable(): boolean { return this.#reachable; }
  get lastContact(): number { return this.#lastContact; }
  get lastError(): string | undefined { return this.#lastError; }

  items(): IterableIterator<T> { return this.#items.values(); }
  get(key: string): T | undefined { return this.#items.get(key); }

  /** Runs until `signal` aborts; never rejects. */
  start(signal: AbortSignal): void {
    signal.addEventListener('abort', () => { this.#handle?.abort(); }, { once: true });
    this.#loop = this.#run(signal);
  }

  /** Resolves when the loop has ended after abort (tests). */
  async stopped(): Promise<void> {
    await this.#loop;
  }

  /** Closes the current watch so the loop re-establishes it (tests: a dropped connection). */
  dropWatch(): void {
    this.#handle?.abort();
  }

  async #run(signal: AbortSignal): Promise<void> {
    let delay = this.#o.minBackoffMs;
    // A function, because the compiler narrows `signal.aborted` to false inside the loop.
    const aborted = (): boolean => signal.aborted;
    while (!aborted()) {
      try {
        if (this.#rv === '') await this.#relist();
        const started = Date.now();
        const end = await this.#watchOnce(signal);
        if (aborted()) break;
        if (end.gone) {
          this.#rv = '';
          continue;
        }
        if (end.err !== undefined) throw end.err instanceof Error ? end.err : new Error(JSON.stringify(end.err));
        if (end.events === 0 && Date.now() - started < MIN_HEALTHY_WATCH_MS) throw new Error('watch closed immediately');
        delay = this.#o.minBackoffMs;
      } catch (err) {
        if (aborted()) break;
        this.#setReachable(false, describeError(err));
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.#o.maxBackoffMs);
      }
    }
  }

  async #relist(): Promise<void> {
    const list = await this.#api.list();
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKey(obj.metadata);
      seen.add(key);
      this.#put(key, obj);
    }
    for (const [key, prev] of [...this.#items]) {
      if (seen.has(key)) continue;
      this.#items.delete(key);
      this.#o.onChange(key, undefined, prev);
    }
    this.#rv = list.resourceVersion;
    this.#synced = true;
    this.#setReachable(true);
  }

  #watchOnce(signal: AbortSignal): Promise<{ gone: boolean; err?: unknown; events: number }> {
    return new Promise((resolve) => {
      let events = 0;
      let gone = false;
      let finished = false;
      const finish = (err: unknown): void => {
        if (finished) return;
        finished = true;
        clearTimeout(watchdog);
        this.#handle = undefined;
        if (statusOf(err) === 410) gone = true;
        resolve(err === null || err === undefined || gone ? { gone, events } : { gone, err, events });
      };
      let watchdog: NodeJS.Timeout | undefined;
      const arm = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => { this.#handle?.abort(); finish(new Error(`watch silent for ${SILENT_WATCH_MS / 1000}s`)); }, SILENT_WATCH_MS);
        watchdog.unref();
      };
      arm();
      const onEvent = (type: WatchEventType, raw: unknown): void => {
        events++;
        arm();
        this.#setReachable(true);
        const obj = raw as T & { code?: number };
        if (type === 'ERROR') {
          // The server ends the stream after an ERROR event; 410 means our resourceVersion expired.
          if (obj.code === 410) gone = true;
          return;
        }
        const rv = obj.metadata?.resourceVersion;
        if (type === 'ADDED' || type === 'MODIFIED') this.#put(objectKey(obj.metadata), obj);
        else if (type === 'DELETED') {
          const key = objectKey(obj.metadata);
          const prev = this.#items.get(key);
          if (this.#items.delete(key)) this.#o.onChange(key, undefined, prev);
        }
        if (rv !== undefined && rv !== '') this.#rv = rv;
      };
      this.#api.watch(this.#rv, onEvent, finish).then(
        (handle) => {
          if (finished) return;
          this.#handle = handle;
          if (signal.aborted) handle.abort();
          else this.#setReachable(true);
        },
        (err: unknown) => { finish(err ?? new Error('watch failed')); },
      );
    });
  }

  /** Write-through of an object we just wrote, so a read right after sees our own write. */
  remember(obj: T): void {
    this.#put(objectKey(obj.metadata), obj);
  }

  /** Write-through of a delete we just made. */
  forget(meta: ObjectMeta | undefined): void {
    const key = objectKey(meta);
    const prev = this.#items.get(key);
    if (this.#items.delete(key)) this.#o.onChange(key, undefined, prev);
  }

  #put(key: string, obj: T): void {
    const prev = this.#items.get(key);
    if (prev !== undefined && !newer(obj.metadata?.resourceVersion, prev.metadata?.resourceVersion)) return;
    this.#items.set(key, obj);
    this.#o.onChange(key, obj, prev);
  }

  #setReachable(reachable: boolean, error?: string): void {
    if (reachable) {
      this.#lastContact = Date.now();
      this.#lastError = undefined;
      this.#o.onContact?.();
    } else {
      this.#lastError = error;
      this.#o.onFailure?.(error ?? 'unknown error');
    }
    if (this.#reachable === reachable) return;
    this.#reachable = reachable;
    this.#o.onState?.();
  }
}

/**
 * resourceVersions are opaque, but etcd-backed servers hand out increasing integers; comparing
 * them keeps a late watch event from overwriting a newer write-through. Unknown shapes: accept.
 */
function newer(next: string | undefined, prev: string | undefined): boolean {
  if (next === undefined || prev === undefined) return true;
  if (next === prev) return false;
  if (!/^\d+$/.test(next) || !/^\d+$/.test(prev)) return true;
  return BigInt(next) > BigInt(prev);
}
