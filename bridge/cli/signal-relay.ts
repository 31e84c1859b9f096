import type { SignalSource } from '../runtime/shutdown.ts';

type Signal = 'SIGTERM' | 'SIGINT';
type Listener = (signal: NodeJS.Signals) => void;
const SIGNALS: readonly Signal[] = ['SIGTERM', 'SIGINT'];

/** The process as far as signals go; `process` itself in production. */
export interface ProcessSignals extends SignalSource {
  exit(code: number): void;
}

export interface SignalRelayOptions {
  /** The first signal while nobody listens (the bridge is still starting): ask it to stop. */
  readonly onStop: (signal: NodeJS.Signals) => void;
  /** Said once before a forced exit, e.g. a log line. */
  readonly onForcedExit?: (signal: NodeJS.Signals) => void;
}

/**
 * Holds SIGTERM/SIGINT for the whole life of `isthmus run`, not only while the shutdown
 * sequence is installed. Without it a signal during start-up, or a second one after the
 * sequence has finished but before the process has exited, meets no handler and kills the
 * process with 128+signal (143, 130) instead of the documented codes: a stop before the bridge
 * is up is still a clean stop (0), and a second signal is always exit 1.
 *
 * It is the SignalSource the shutdown sequence installs on: while a listener is registered
 * the relay forwards to it and the sequence decides; otherwise the first signal calls `onStop`
 * and any later one exits 1.
 */
export class SignalRelay implements SignalSource {
  readonly #proc: ProcessSignals;
  readonly #o: SignalRelayOptions;
  readonly #listeners = new Map<Signal, Set<Listener>>(SIGNALS.map((s) => [s, new Set<Listener>()]));
  #received = 0;

  constructor(proc: ProcessSignals, options: SignalRelayOptions) {
    this.#proc = proc;
    this.#o = options;
    for (const s of SIGNALS) proc.on(s, this.#onSignal);
  }

  on(signal: Signal, listener: Listener): this {
    this.#listeners.get(signal)?.add(listener);
    return this;
  }

  off(signal: Signal, listener: Listener): this {
    this.#listeners.get(signal)?.delete(listener);
    return this;
  }

  /**
   * Gives the signals back. Not for the real process: there the relay stays until the very
   * end, since even `process.exit` runs exit handlers during which a signal would kill it.
   */
  close(): void {
    for (const s of SIGNALS) this.#proc.off(s, this.#onSignal);
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#received++;
    const listeners = [...(this.#listeners.get(signal as Signal) ?? [])];
    if (listeners.length > 0) {
      for (const l of listeners) l(signal);
      return;
    }
    if (this.#received === 1) {
      this.#o.onStop(signal);
      return;
    }
    this.#o.onForcedExit?.(signal);
    this.#proc.exit(1);
  };
}
