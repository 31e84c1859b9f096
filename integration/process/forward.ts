// Decides which signals the launcher passes on to its child. The launcher and its child share
// a process group, so a signal sent to the group (a terminal's Ctrl-C, `kill -- -PGID`, systemd
// stopping a unit) reaches the child already, while one sent to npm or to the launcher alone
// (a supervisor's SIGTERM) does not. npm relays every SIGINT/SIGTERM it gets to the launcher, so
// one Ctrl-C arrives there twice. The child reports each signal it receives; signals of one
// kind that arrive within `windowMs` of each other count as one delivery, which is forwarded
// once at the end of the window, and only if the child has not reported it.
import type { LaunchedSignal } from './signal-protocol.ts';

export interface ForwardClock {
  now(): number;
  after(ms: number, fn: () => void): void;
}

const REAL_CLOCK: ForwardClock = {
  now: () => Date.now(),
  after: (ms, fn) => { setTimeout(fn, ms).unref(); },
};

interface Burst {
  /** The current delivery ends here; later signals of the kind start a new one. */
  until: number;
  childHasIt: boolean;
  /** Last report not yet matched to a delivery (the child may report before we receive ours). */
  unmatchedReport: number;
  /** Reports still expected for signals we forwarded ourselves. */
  forwarded: number;
}

export class SignalForwarder {
  readonly #forward: (signal: LaunchedSignal) => void;
  readonly #windowMs: number;
  readonly #clock: ForwardClock;
  readonly #bursts = new Map<LaunchedSignal, Burst>();

  constructor(forward: (signal: LaunchedSignal) => void, windowMs: number, clock: ForwardClock = REAL_CLOCK) {
    this.#forward = forward;
    this.#windowMs = windowMs;
    this.#clock = clock;
  }

  /** The launcher itself received `signal`. */
  received(signal: LaunchedSignal): void {
    const b = this.#burst(signal);
    const now = this.#clock.now();
    if (now < b.until) return;
    b.until = now + this.#windowMs;
    b.childHasIt = now - b.unmatchedReport < this.#windowMs;
    b.unmatchedReport = -Infinity;
    this.#clock.after(this.#windowMs, () => {
      if (b.childHasIt) return;
      b.forwarded += 1;
      this.#forward(signal);
    });
  }

  /** The child reported that `signal` reached it. */
  reported(signal: LaunchedSignal): void {
    const b = this.#burst(signal);
    if (b.forwarded > 0) {
      b.forwarded -= 1;
      return;
    }
    const now = this.#clock.now();
    if (now < b.until) b.childHasIt = true;
    else b.unmatchedReport = now;
  }

  #burst(signal: LaunchedSignal): Burst {
    let b = this.#bursts.get(signal);
    if (b === undefined) {
      b = { until: -Infinity, childHasIt: false, unmatchedReport: -Infinity, forwarded: 0 };
      this.#bursts.set(signal, b);
    }
    return b;
  }
}
