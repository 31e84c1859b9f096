/**
 * Retry pacing in the client-go style: each key backs off exponentially on its own, and a global
 * token bucket caps the total retry rate so a registry outage does not turn into a retry storm
 * when thousands of keys fail together. The bucket only paces retries; first attempts are free.
 */
export interface RetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Sustained retries per second across all keys. */
  readonly perSecond: number;
  /** Retries allowed at once before the rate applies. */
  readonly burst: number;
}

export class RetryLimiter {
  readonly #policy: RetryPolicy;
  readonly #now: () => number;
  readonly #failures = new Map<string, number>();
  #tokens: number;
  #refilledAt: number;

  constructor(policy: RetryPolicy, now: () => number = Date.now) {
    this.#policy = policy;
    this.#now = now;
    this.#tokens = policy.burst;
    this.#refilledAt = now();
  }

  /** Milliseconds to wait before retrying `key`; counts this as one more failure. */
  when(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    const backoff = Math.min(this.#policy.maxMs, this.#policy.baseMs * 2 ** Math.min(n, 30));
    return Math.max(backoff, this.#reserve());
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The key succeeded (or was given up on): its next failure starts from the base delay. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Takes one token, possibly borrowing from the future; returns how long until it is due. */
  #reserve(): number {
    const now = this.#now();
    const rate = this.#policy.perSecond / 1000;
    this.#tokens = Math.min(this.#policy.burst, this.#tokens + (now - this.#refilledAt) * rate);
    this.#refilledAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil(-this.#tokens / rate);
  }
}
