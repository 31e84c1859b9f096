import type { SourceHealth } from '../../bridge/ports/index.ts';

export interface HealthStart {
  /**
   * Channels that have not answered yet: the source counts as unreachable until each of them
   * made contact once (a connection not yet up, reflectors not yet listed).
   */
  readonly pending?: Iterable<string>;
  /** When the source was last known reachable at start; 0 reads as "never". Default: now. */
  readonly lastContact?: number;
}

/**
 * Reachability of one source. A registry is usually read through several channels at once
 * (one watch per service, one reflector per resource, a session plus its reads); the source is
 * reachable only while none of them is failing, because a single blind channel is enough to
 * make an absent record unprovable — and that is what the engine's freeze protects against.
 */
export class HealthTracker {
  readonly #down = new Set<string>();
  #lastContact: number;
  #lastError: string | undefined;

  constructor(start: HealthStart = {}) {
    for (const channel of start.pending ?? []) this.#down.add(channel);
    this.#lastContact = start.lastContact ?? Date.now();
  }

  get reachable(): boolean {
    return this.#down.size === 0;
  }

  /** The registry answered on `channel`. True when this made the whole source reachable again. */
  contact(channel = ''): boolean {
    this.#lastContact = Date.now();
    return this.#down.delete(channel) && this.#down.size === 0;
  }

  /** `channel` failed with `message`. True when the channel was fine until now. */
  lost(message: string, channel = ''): boolean {
    this.#lastError = message;
    if (this.#down.has(channel)) return false;
    this.#down.add(channel);
    return true;
  }

  /**
   * While reachable the contact is ongoing, so it reads as now; the error is shown only while it
   * still explains something.
   */
  health(): SourceHealth {
    if (this.reachable) return { reachable: true, lastContact: Date.now() };
    const base = { reachable: false, lastContact: this.#lastContact };
    return this.#lastError === undefined ? base : { ...base, lastError: this.#lastError };
  }
}
