import type { RegistryId } from '../../bridge/model/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { SourceCache } from './source-cache.ts';

export interface PollLoopOptions {
  readonly registry: RegistryId;
  /** The registry kind that starts each log line (`eureka`, `nacos`). */
  readonly kind: string;
  /** What one poll is called in the failure line (`fetch`, `list`). */
  readonly what: string;
  readonly intervalMs: number;
  /** The source's cache: the loop reports reachability into it, never content. */
  readonly cache: SourceCache;
  readonly logger?: EngineLogger | undefined;
}

/**
 * The read loop of a source that polls its registry: one poll, then a wait of intervalMs, until
 * the signal aborts. A failed poll only marks the cache unreachable, so what was last seen stays
 * (freeze), and while unreachable the next try comes within a second, so an outage ends as soon
 * as the registry answers rather than one whole interval later. The poll itself calls contact()
 * once the registry has answered, at the point in its work the source chooses.
 */
export class PollLoop {
  readonly #o: PollLoopOptions;
  readonly #poll: () => Promise<void>;
  #failures = 0;
  #wake: (() => void) | undefined;

  constructor(options: PollLoopOptions, poll: () => Promise<void>) {
    this.#o = options;
    this.#poll = poll;
  }

  /** Resolves once the signal aborts; a poll never rejects it. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.#poll();
      } catch (err) {
        this.#fail(err);
      }
      await this.#wait(signal);
    }
  }

  /** Ends the current wait now; a call while a poll runs does nothing. */
  wake(): void {
    this.#wake?.();
  }

  /** The registry answered. */
  contact(): void {
    this.#failures = 0;
    const { cache, kind, logger, registry } = this.#o;
    if (cache.contact() && cache.hasSynced()) {
      logger?.info({ registry }, `${kind} reachable again`);
      // Removals the engine held while we were unreachable must be looked at again.
      cache.nudgeAll();
    }
  }

  #wait(signal: AbortSignal): Promise<void> {
    const { cache, intervalMs } = this.#o;
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const t = setTimeout(wake, cache.reachable ? intervalMs : Math.min(intervalMs, 1000));
      this.#wake = wake;
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  #fail(err: unknown): void {
    this.#failures++;
    const { cache, kind, logger, registry, what } = this.#o;
    const message = describeError(err);
    cache.lost(message);
    // One line per outage, then every 10th retry: an outage must not flood the logs.
    if (this.#failures === 1 || this.#failures % 10 === 0) {
      const fields = { registry, err: message, failures: this.#failures };
      if (err instanceof BridgeError && err.code === 'ISTHMUS_REGISTRY_AUTH') logger?.error(fields, `${kind} refused our credentials; cache frozen, nothing deleted, retrying`);
      else logger?.warn(fields, `${kind} ${what} failed; cache frozen, retrying`);
    }
  }
}
