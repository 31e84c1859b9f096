import { BridgeError, describeError } from '../errors/index.ts';
import type { RegistryId } from '../model/index.ts';
import type { EngineLogger } from './logger-port.ts';

export interface SinkBackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** How often a failure that goes on is logged again (a reminder), at most. */
  readonly reminderMs?: number;
  readonly now?: () => number;
}

/**
 * One registry's health as the engine sees it when writing to it. A failure that is about the
 * registry rather than one record (unreachable, timed out, throttled, refusing our credentials)
 * closes the sink for an exponentially growing period: until it ends, no request goes to the
 * registry, and afterwards exactly one probe does. Its log lines are one per change of state
 * plus a periodic reminder, so an outage is neither a retry storm nor a wall of warnings.
 */
export class SinkBackoff {
  readonly #sink: RegistryId;
  readonly #o: Required<Omit<SinkBackoffOptions, 'now'>>;
  readonly #now: () => number;
  readonly #log: EngineLogger;
  #failures = 0;
  #retryAt = 0;
  #probing = false;
  #lastError: string | undefined;
  #loggedAt = 0;

  constructor(sink: RegistryId, options: SinkBackoffOptions, log: EngineLogger) {
    this.#sink = sink;
    this.#o = { reminderMs: 60_000, ...options };
    this.#now = options.now ?? Date.now;
    this.#log = log;
  }

  /** Whether a failure says the registry, not one record, is the problem. */
  static isSinkWide(err: unknown): boolean {
    return err instanceof BridgeError && (err.code === 'ISTHMUS_REGISTRY_UNREACHABLE' || err.code === 'ISTHMUS_REGISTRY_AUTH');
  }

  /**
   * Ms to wait before the next request to this registry may go, or 0 to go now. A 0 answer
   * while backing off makes the caller the one probe: others wait until it has reported.
   */
  admit(): number {
    if (this.#failures === 0) return 0;
    const wait = this.#retryAt - this.#now();
    if (wait > 0) return wait;
    // Others wait a whole period while the probe is out (a silent registry holds it for the
    // request timeout); `succeeded` says when to bring them back early.
    if (this.#probing) return this.#delay();
    this.#probing = true;
    return 0;
  }

  get failing(): boolean {
    return this.#failures > 0;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The registry answered; true when that ends a failure, so callers re-queue what waited. */
  succeeded(): boolean {
    this.#probing = false;
    if (this.#failures === 0) return false;
    this.#log.info({ sink: this.#sink, failures: this.#failures }, 'registry answers again: writes resume');
    this.#failures = 0;
    this.#retryAt = 0;
    this.#lastError = undefined;
    return true;
  }

  /** Records a registry-wide failure; returns the ms until the next probe. */
  failed(err: unknown, what: string): number {
    this.#probing = false;
    const message = describeError(err);
    const delay = this.#delay();
    this.#failures++;
    const now = this.#now();
    this.#retryAt = now + delay;
    const changed = message !== this.#lastError;
    this.#lastError = message;
    if (changed || now - this.#loggedAt >= this.#o.reminderMs) {
      this.#loggedAt = now;
      this.#log.warn({ sink: this.#sink, err: message, failures: this.#failures, retryInMs: delay }, `${what}; backing off`);
    }
    return delay;
  }

  #delay(): number {
    return Math.min(this.#o.maxMs, this.#o.baseMs * 2 ** Math.min(this.#failures, 30));
  }
}
