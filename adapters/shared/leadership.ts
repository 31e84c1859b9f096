import type { EngineLogger } from '../../bridge/sync/logger-port.ts';

export interface LeadershipOptions {
  /** Bridge id and lock (key or path) the replicas compete for, for the logs. */
  readonly bridgeId: string;
  readonly lock: string;
  readonly identity: string;
  /**
   * How long one confirmation by the registry keeps us leading. Must end before the registry
   * could hand the lock to someone else (a session TTL, a session timeout), so a leader that has
   * lost contact stops writing before a peer may start. A function: ZooKeeper negotiates it.
   */
  readonly deadlineMs: () => number;
  readonly logger?: EngineLogger | undefined;
}

/**
 * Leadership as a lock-based elector (Consul session, ZooKeeper node) sees it: held only until
 * the deadline after the last confirmation, whatever the loop that confirms it is doing (it may
 * be stuck in a request that never answers). A timer turns a lapse into an event at once, so the
 * runtime and the logs learn of it when it happens, not at the next retry.
 */
export class Leadership {
  readonly #o: LeadershipOptions;
  readonly #listeners = new Set<(leader: boolean) => void>();
  #leading = false;
  #confirmedAt = 0;
  #lapse: NodeJS.Timeout | undefined;
  #holder: string | undefined;
  #closed = false;

  constructor(options: LeadershipOptions) {
    this.#o = options;
  }

  isLeader(): boolean {
    return this.#leading && Date.now() - this.#confirmedAt < this.#o.deadlineMs();
  }

  /**
   * The registry says we hold the lock, as of a request that *started* at `at`: the registry
   * restarted its own clock (TTL, session timeout) no earlier than that, so our deadline counted
   * from `at` ends first. Ignored after `close`: a request in flight at release must not revive us.
   */
  confirm(at: number): void {
    if (this.#closed || Date.now() - at >= this.#o.deadlineMs()) return;
    const gained = !this.isLeader();
    this.#confirmedAt = Math.max(this.#confirmedAt, at);
    this.#leading = true;
    this.#holder = undefined;
    this.#arm();
    if (gained) {
      this.#o.logger?.info({ bridgeId: this.#o.bridgeId, lock: this.#o.lock, identity: this.#o.identity }, 'leader election: became leader; this replica writes');
      this.#emit(true);
    }
  }

  /**
   * We do not (or no longer) hold the lock; `why` goes into the log when that ends our
   * leadership, a warning unless we gave it up ourselves (`deliberate`: shutdown, release).
   */
  lose(why: string, deliberate = false): void {
    clearTimeout(this.#lapse);
    if (!this.#leading) return;
    this.#leading = false;
    const fields = { bridgeId: this.#o.bridgeId, lock: this.#o.lock, identity: this.#o.identity, why };
    if (deliberate) this.#o.logger?.info(fields, 'leader election: leadership given up; writes stop');
    else this.#o.logger?.warn(fields, 'leader election: lost leadership; writes stop');
    this.#emit(false);
  }

  /**
   * Someone else holds the lock. Said loudly once per holder: two daemons started with the same
   * bridge id is a mistake as often as it is a deliberate standby, and the operator must see which.
   */
  standby(holder: string): void {
    this.lose(`held by ${holder}`);
    if (this.#holder === holder) return;
    this.#holder = holder;
    this.#o.logger?.warn(
      { bridgeId: this.#o.bridgeId, lock: this.#o.lock, identity: this.#o.identity, holder },
      `leader election: bridge id ${this.#o.bridgeId} is led by ${holder}; this replica waits as standby (serves the resolver, writes nothing)`,
    );
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ends leadership for good (release, stop): later confirmations are ignored. */
  close(why: string): void {
    this.lose(why, true);
    this.#closed = true;
  }

  #arm(): void {
    clearTimeout(this.#lapse);
    const left = this.#confirmedAt + this.#o.deadlineMs() - Date.now();
    this.#lapse = setTimeout(() => {
      if (this.#leading && !this.isLeader()) this.lose(`not confirmed for ${this.#o.deadlineMs()} ms`);
      else if (this.#leading) this.#arm();
    }, Math.max(0, left));
    this.#lapse.unref();
  }

  #emit(leading: boolean): void {
    for (const l of this.#listeners) l(leading);
  }
}

/** Holder identity written into the lock's value, so a standby can say who leads. */
export interface HolderDoc {
  readonly identity: string;
  readonly host: string;
  readonly pid: number;
  readonly since: string;
}

/** A readable name of the holder from the lock's value; `fallback` when it is not ours to parse. */
export function holderName(raw: string | undefined, fallback: string): string {
  if (raw === undefined || raw === '') return fallback;
  try {
    const doc = JSON.parse(raw) as Partial<HolderDoc>;
    if (typeof doc.identity === 'string') return `${doc.identity}${typeof doc.host === 'string' ? ` on ${doc.host}` : ''}${typeof doc.pid === 'number' ? ` (pid ${doc.pid})` : ''}`;
  } catch {
    // not JSON: someone else's value
  }
  return fallback;
}
