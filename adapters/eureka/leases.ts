import { describeError } from '../../bridge/errors/index.ts';
import type { ServiceRef } from '../../bridge/model/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { EurekaClient } from './client.ts';
import { idOf, type EurekaInstance } from './native.ts';

/** One instance this process keeps alive. */
export interface Lease {
  readonly ref: ServiceRef;
  readonly app: string;
  /** As the server holds it: body, status, override and the lastDirtyTimestamp it was registered with. */
  instance: EurekaInstance;
  /**
   * Registered by this process (it wants the instance): a 404 renew means re-register. Leases
   * only adopted from a server read (a previous process's) are renewed but, on a 404, dropped:
   * another replica may have cancelled them on purpose, and bringing them back would undo it.
   */
  mine: boolean;
  nextRenewAt: number;
  /** A renewal (and re-registration) in flight; writes to the lease wait for it. */
  busy: Promise<void> | undefined;
  /** Set once the lease left the table, so a renewal in flight does not re-register it. */
  gone: boolean;
}

export interface LeaseKeeperOptions {
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly logger?: EngineLogger | undefined;
  /** Re-registers a lease the server lost (404 on renew); returns the instance as registered. */
  readonly reregister: (lease: Lease) => Promise<EurekaInstance>;
  /** An adopted lease the server no longer has: the sink forgets the ref and asks for a resync. */
  readonly lost: (lease: Lease) => void;
}

/**
 * Heartbeats for every exported instance, as a Spring client sends its own: one PUT per lease
 * per renewal interval, at most `concurrency` at once, each lease on its own random phase, so
 * 1,000 leases at 30 s are a steady ~33 requests/s rather than one burst every 30 s.
 */
export class LeaseKeeper {
  readonly #client: EurekaClient;
  readonly #o: LeaseKeeperOptions;
  readonly #leases = new Map<string, Lease>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** Renewals that failed (network, 5xx) since start. */
  failures = 0;

  constructor(client: EurekaClient, options: LeaseKeeperOptions) {
    this.#client = client;
    this.#o = options;
  }

  start(signal: AbortSignal): void {
    // Ticks often enough that a lease is renewed within a few percent of its interval.
    const tick = Math.max(50, Math.min(1000, Math.floor(this.#o.intervalMs / 10)));
    this.#timer = setInterval(() => { void this.#renewDue(); }, tick);
    this.#timer.unref();
    signal.addEventListener('abort', () => { clearInterval(this.#timer); }, { once: true });
  }

  get size(): number {
    return this.#leases.size;
  }

  get(app: string, id: string): Lease | undefined {
    return this.#leases.get(key(app, id));
  }

  all(): IterableIterator<Lease> {
    return this.#leases.values();
  }

  /**
   * Adds or replaces a lease. A fresh one is first renewed at a random point of the coming
   * interval: leases registered together (an initial sync of 1,000) would otherwise renew as
   * one burst every interval forever. Renewing early costs one request once and never hurts.
   */
  put(ref: ServiceRef, app: string, instance: EurekaInstance, mine: boolean, firstRenewInMs = Math.ceil(Math.random() * this.#o.intervalMs)): Lease {
    const k = key(app, idOf(instance));
    const prior = this.#leases.get(k);
    if (prior !== undefined) {
      prior.instance = instance;
      prior.mine ||= mine;
      return prior;
    }
    const lease: Lease = { ref, app, instance, mine, nextRenewAt: Date.now() + firstRenewInMs, busy: undefined, gone: false };
    this.#leases.set(k, lease);
    return lease;
  }

  remove(lease: Lease): void {
    lease.gone = true;
    this.#leases.delete(key(lease.app, idOf(lease.instance)));
  }

  async #renewDue(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const now = Date.now();
      const due = [...this.#leases.values()].filter((l) => l.nextRenewAt <= now && l.busy === undefined).sort((a, b) => a.nextRenewAt - b.nextRenewAt);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < due.length) {
          const lease = due[next++];
          if (lease === undefined || lease.gone) continue;
          const run = this.#renew(lease);
          lease.busy = run;
          await run;
          lease.busy = undefined;
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, due.length) }, worker));
    } finally {
      this.#running = false;
    }
  }

  async #renew(lease: Lease): Promise<void> {
    const i = lease.instance;
    try {
      const known = await this.#client.renew(lease.app, idOf(i), i.lastDirtyTimestamp === undefined ? undefined : String(i.lastDirtyTimestamp));
      if (lease.gone) return;
      if (!known) {
        if (!lease.mine) {
          this.remove(lease);
          this.#o.lost(lease);
          return;
        }
        // Evicted (we were away longer than the lease), a restarted server, or our registration
        // is older than the server's copy: register again, as DiscoveryClient does.
        lease.instance = await this.#o.reregister(lease);
        this.#o.logger?.info({ registry: this.#client.registry, app: lease.app, instance: idOf(i) }, 'eureka renew answered 404: registered again');
      }
      lease.nextRenewAt = Date.now() + this.#o.intervalMs;
    } catch (err) {
      // The lease outlives several missed renewals: try again soon rather than a full interval on.
      lease.nextRenewAt = Date.now() + Math.max(1000, Math.floor(this.#o.intervalMs / 3));
      this.failures++;
      // One line per lease would flood the log in an outage: every 100th failure is enough.
      if (this.failures % 100 === 1) this.#o.logger?.warn({ registry: this.#client.registry, app: lease.app, instance: idOf(i), failures: this.failures, err: describeError(err) }, 'eureka renew failed; retrying');
    }
  }
}

function key(app: string, id: string): string {
  return `${app.toUpperCase()}\u0000${id}`;
}
