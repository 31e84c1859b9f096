import { describeError } from '../../bridge/errors/index.ts';
import type { ConsulClient } from './client.ts';

/**
 * The index to send next, following Consul's blocking-query rules: an index that went backwards
 * (a restarted or replaced server) resets to 0, i.e. one plain read that relists everything; an
 * index of 0 from the server becomes 1 so the loop never spins on non-blocking reads. Pure.
 */
export function nextIndex(previous: number, received: number): { readonly index: number; readonly reset: boolean } {
  if (received < previous) return { index: 0, reset: true };
  return { index: Math.max(1, received), reset: false };
}

/** Exponential backoff with jitter: 250 ms, 500 ms… up to `maxMs`. Pure apart from `random`. */
export function backoffMs(failures: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, 250 * 2 ** Math.min(failures - 1, 16));
  return Math.round(base * (0.5 + random() / 2));
}

/** Token bucket with a burst of 2, as Consul's blocking-query guide suggests for watch loops. */
export class WatchRateLimit {
  readonly #intervalMs: number;
  #tokens = 2;
  #last = Date.now();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Milliseconds to wait before the next query (0 = go now); takes a token. */
  take(now = Date.now()): number {
    if (this.#intervalMs <= 0) return 0;
    this.#tokens = Math.min(2, this.#tokens + (now - this.#last) / this.#intervalMs);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    const wait = (1 - this.#tokens) * this.#intervalMs;
    this.#tokens = 0;
    this.#last = now + wait;
    return Math.ceil(wait);
  }
}

export interface WatchOptions<T> {
  readonly client: ConsulClient;
  readonly path: string;
  readonly params?: Readonly<Record<string, string | undefined>>;
  readonly waitSeconds: number;
  readonly minIntervalMs: number;
  readonly maxBackoffMs: number;
  readonly signal: AbortSignal;
  /** A successful read; `reset` = the index went backwards (the server lost its state). */
  readonly onData: (body: T, index: number, reset: boolean) => void;
  readonly onError: (err: unknown, failures: number) => void;
}

/**
 * A blocking-query loop that runs until `signal` aborts and never throws. After a failure the
 * next read is a plain one (index 0): a server that came back with a smaller index would
 * otherwise hold our old, higher index for a whole wait before we learn anything.
 */
export async function runWatch<T>(o: WatchOptions<T>): Promise<void> {
  const limit = new WatchRateLimit(o.minIntervalMs);
  let index = 0;
  let failures = 0;
  while (!o.signal.aborted) {
    const wait = limit.take();
    if (wait > 0) await sleep(wait, o.signal);
    if (isAborted(o.signal)) return;
    try {
      const res = await o.client.read<T>(o.path, {
        index,
        waitSeconds: o.waitSeconds,
        signal: o.signal,
        ...(o.params === undefined ? {} : { params: o.params }),
      });
      const next = nextIndex(index, res.index);
      failures = 0;
      index = next.index;
      o.onData(res.body, res.index, next.reset);
    } catch (err) {
      if (isAborted(o.signal)) return;
      failures++;
      index = 0;
      try {
        o.onError(err, failures);
      } catch (inner) {
        // A listener bug must not end the watch; it would silently freeze the cache forever.
        process.emitWarning(`consul watch error handler threw: ${describeError(inner)}`);
      }
      await sleep(backoffMs(failures, o.maxBackoffMs), o.signal);
    }
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A call, not a property read, so the compiler does not assume the signal cannot change between awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
