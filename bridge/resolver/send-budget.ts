/** A stream's unsent state, as the budget sees it. */
export interface Holding {
  /** When the state was written (Date.now()). */
  readonly since: number;
  /** Drops the stream as a slow consumer; must give its bytes back before returning. */
  readonly evict: () => void;
}

/**
 * The unsent bytes that every gRPC Watch stream of one resolver may hold together. A stream asks
 * before it renders a state; when the budget is spent it queues and is woken, oldest first, as
 * other streams' clients take what they were sent.
 *
 * While streams wait, a holder whose client has not taken its state within `pressureMs` is
 * evicted: stalled clients would otherwise keep healthy ones from their first state for a whole
 * slow-consumer timeout per round of the budget.
 *
 * Room is checked before the size is known, so the total can pass the maximum by one state. With
 * nothing held a stream always gets its turn: a state larger than the whole budget still goes
 * out, one at a time.
 */
export class SendBudget {
  readonly #max: number;
  readonly #pressureMs: number;
  #used = 0;
  /** Map order is insertion order: the first entry is the oldest holding. */
  readonly #held = new Map<Holding, number>();
  readonly #waiting = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(maxBytes: number, pressureMs: number) {
    this.#max = maxBytes;
    this.#pressureMs = pressureMs;
  }

  get used(): number {
    return this.#used;
  }

  /** Whether a stream may send now; streams already waiting go first. */
  hasRoom(): boolean {
    return this.#used === 0 || (this.#used < this.#max && this.#waiting.size === 0);
  }

  take(holding: Holding, bytes: number): void {
    this.#held.set(holding, bytes);
    this.#used += bytes;
  }

  /** The client took the state, or the stream is gone: its bytes return and waiters wake. */
  give(holding: Holding): void {
    const bytes = this.#held.get(holding);
    if (bytes === undefined) return;
    this.#held.delete(holding);
    this.#used -= bytes;
    this.#wake();
  }

  /** Calls `wake` once there is room; a stream queues at most once. */
  wait(wake: () => void): void {
    this.#waiting.add(wake);
    this.#wake();
    this.#squeeze();
  }

  /** A stream that went away stops waiting. */
  forget(wake: () => void): void {
    if (this.#waiting.delete(wake)) this.#wake();
  }

  #full(): boolean {
    return this.#used !== 0 && this.#used >= this.#max;
  }

  #wake(): void {
    // A woken stream may write at once, so room is re-checked between wake-ups.
    for (const wake of this.#waiting) {
      if (this.#full()) return;
      this.#waiting.delete(wake);
      wake();
    }
    if (this.#waiting.size === 0) this.#stopTimer();
  }

  /**
   * Evicts holders older than pressureMs while streams wait; re-checks when the next one ages.
   * The clock is read once: states written by streams woken in this very pass have not had an
   * event-loop turn to reach their clients, however long the pass took.
   */
  #squeeze(): void {
    this.#stopTimer();
    const now = Date.now();
    while (this.#waiting.size > 0 && this.#full()) {
      const oldest = this.#held.keys().next();
      if (oldest.done === true) return;
      const age = now - oldest.value.since;
      if (age < this.#pressureMs) {
        if (Number.isFinite(this.#pressureMs)) {
          this.#timer = setTimeout(() => { this.#squeeze(); }, Math.max(1, this.#pressureMs - age));
          this.#timer.unref();
        }
        return;
      }
      oldest.value.evict();
      // An evict that did not give back would loop forever; treat it as given.
      this.give(oldest.value);
    }
  }

  #stopTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
