import { hostname } from 'node:os';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { AdapterContext, LeaderElection } from '../../bridge/ports/index.ts';
import { holderName, Leadership, type HolderDoc } from '../shared/leadership.ts';
import type { ConsulClient } from './client.ts';
import type { ConsulLeaderOptions } from './options.ts';

type EngineLogger = AdapterContext['logger'];

/** The Consul calls the elector makes (ConsulClient has them; unit tests fake them). */
export type ConsulLockApi = Pick<ConsulClient, 'read' | 'put'>;

/** The settings the elector needs (`enabled` and `identity` are the adapter's business). */
export type ConsulLockSettings = Pick<ConsulLeaderOptions, 'keyPrefix' | 'ttlSeconds' | 'renewDeadlineSeconds' | 'retryPeriodSeconds' | 'lockDelaySeconds'>;

interface KvEntry {
  readonly Session?: string;
  readonly Value?: string | null;
}

/** The KV key every replica of one bridge id competes for. */
export function lockKey(keyPrefix: string, bridgeId: string): string {
  return `${keyPrefix}/${bridgeId}/leader`;
}

/**
 * Leader election through a Consul session lock (Consul's own leader-election recipe): each
 * replica creates a session with a TTL and no health checks, and the one whose session acquires
 * `<prefix>/<bridgeId>/leader` writes. Consul invalidates a session between TTL and 2×TTL after
 * its last renewal and then keeps the lock for `lockDelay` before anyone may take it; we stop
 * claiming leadership `renewDeadline` (< TTL) after the start of our last successful renewal.
 * So a leader cut off from Consul stops writing well before another replica can start, and
 * late writes still in flight have the lock delay on top.
 */
export class ConsulLeaderElector implements LeaderElection {
  readonly #api: ConsulLockApi;
  readonly #o: ConsulLockSettings;
  readonly #key: string;
  readonly #identity: string;
  readonly #bridgeId: string;
  readonly #log: EngineLogger | undefined;
  readonly #state: Leadership;
  #session: string | undefined;
  #loop: Promise<void> | undefined;
  #step: Promise<boolean> | undefined;

  constructor(api: ConsulLockApi, bridgeId: string, identity: string, options: ConsulLockSettings, logger?: EngineLogger) {
    if (options.renewDeadlineSeconds >= options.ttlSeconds) {
      throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'consul leader election: renewDeadlineSeconds must be less than ttlSeconds', { terminal: true });
    }
    if (options.retryPeriodSeconds >= options.renewDeadlineSeconds) {
      throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'consul leader election: retryPeriodSeconds must be less than renewDeadlineSeconds', { terminal: true });
    }
    this.#api = api;
    this.#o = options;
    this.#key = lockKey(options.keyPrefix, bridgeId);
    this.#identity = identity;
    this.#bridgeId = bridgeId;
    this.#log = logger;
    this.#state = new Leadership({ bridgeId, lock: `consul key ${this.#key}`, identity, deadlineMs: () => options.renewDeadlineSeconds * 1000, logger });
  }

  get identity(): string {
    return this.#identity;
  }

  /** A standby polls every retryPeriod plus up to 20 % jitter; a released lock carries no lock delay. */
  get takeoverMs(): number {
    return Math.ceil(this.#o.retryPeriodSeconds * 1000 * 1.2);
  }

  isLeader(): boolean {
    return this.#state.isLeader();
  }

  onChange(listener: (leader: boolean) => void): () => void {
    return this.#state.onChange(listener);
  }

  /** Campaigns and renews every retryPeriod until `signal` aborts. Never rejects. */
  start(signal: AbortSignal): void {
    this.#loop = (async () => {
      while (!signal.aborted) {
        this.#step = this.tryAcquireOrRenew();
        const leading = await this.#step;
        const ms = this.#o.retryPeriodSeconds * 1000 * (leading ? 1 : 1 + Math.random() * 0.2);
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, ms);
          function done(): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
          signal.addEventListener('abort', done, { once: true });
        });
      }
      // Abort without release() is a crash: we stop renewing and the session expires on its own.
      this.#state.lose('elector stopped', true);
    })();
  }

  /** Resolves once the loop started by `start` has ended (after abort). */
  async stopped(): Promise<void> {
    await this.#loop;
  }

  /**
   * Releases the lock (no lock delay for the next holder, unlike an invalidated session) and
   * destroys the session. Waits for an attempt in flight first, so it cannot take the lock back.
   */
  async release(): Promise<void> {
    await this.#step?.catch(() => false);
    this.#state.close('released');
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined) return;
    try {
      await this.#api.put(`/v1/kv/${this.#key}`, undefined, { release: session });
      await this.#api.put(`/v1/session/destroy/${session}`, undefined);
    } catch (err) {
      this.#log?.warn({ err: describeError(err), key: this.#key }, 'leader election: could not release the Consul lock; it is freed when the session expires');
    }
  }

  /** One attempt: keep the lock if ours, take it if free, else name the holder. Returns whether we lead. */
  async tryAcquireOrRenew(): Promise<boolean> {
    try {
      const held = await this.#readLock();
      if (held?.Session !== undefined && held.Session !== '' && held.Session === this.#session) {
        const at = Date.now();
        if (await this.#renew()) this.#state.confirm(at);
        return this.isLeader();
      }
      if (held?.Session !== undefined && held.Session !== '') {
        this.#state.standby(holderName(held.Value === undefined || held.Value === null ? undefined : Buffer.from(held.Value, 'base64').toString('utf8'), `session ${held.Session}`));
        return false;
      }
      const at = Date.now();
      const session = await this.#ensureSession();
      const acquired = await this.#api.put<boolean>(`/v1/kv/${this.#key}`, this.#holderDoc(), { acquire: session });
      if (acquired) this.#state.confirm(at);
      // Free yet refused: the lock delay after the previous holder's session was invalidated.
      else this.#log?.debug({ key: this.#key }, 'leader election: lock free but refused (lock delay); retrying');
      return this.isLeader();
    } catch (err) {
      // Unreachable: we keep leading only until the renew deadline passes (Leadership checks it).
      this.#log?.debug({ err: describeError(err), key: this.#key }, 'leader election: Consul lock attempt failed');
      return this.isLeader();
    }
  }

  async #readLock(): Promise<KvEntry | undefined> {
    try {
      const { body } = await this.#api.read<KvEntry[]>(`/v1/kv/${this.#key}`);
      return body[0];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Renews our session; false (and leadership over) when Consul has invalidated it. */
  async #renew(): Promise<boolean> {
    const session = this.#session;
    if (session === undefined) return false;
    try {
      await this.#api.put(`/v1/session/renew/${session}`, undefined);
      return true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.#session = undefined;
      this.#state.lose('Consul invalidated our session');
      return false;
    }
  }

  async #ensureSession(): Promise<string> {
    if (this.#session !== undefined && (await this.#renew())) return this.#session;
    const created = await this.#api.put<{ ID?: string } | undefined>('/v1/session/create', {
      Name: `isthmus ${this.#bridgeId} ${this.#identity}`,
      TTL: `${this.#o.ttlSeconds}s`,
      LockDelay: `${this.#o.lockDelaySeconds}s`,
      // No health checks: the TTL alone decides, so the agent we happen to talk to cannot end
      // our leadership and the timing above holds.
      NodeChecks: [],
      Behavior: 'release',
    });
    if (typeof created?.ID !== 'string') throw new BridgeError('ISTHMUS_REGISTRY_REJECTED', 'consul: session create answered without an ID');
    this.#session = created.ID;
    return created.ID;
  }

  #holderDoc(): HolderDoc {
    return { identity: this.#identity, host: hostname(), pid: process.pid, since: new Date().toISOString() };
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof BridgeError && err.details['status'] === 404;
}
