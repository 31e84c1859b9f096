import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { AdapterContext } from '../../bridge/ports/index.ts';
import type { LeaderOptions } from './options.ts';
import type { KLease } from './types.ts';
import { sleep } from './sleep.ts';

type EngineLogger = AdapterContext['logger'];

/** The Lease calls the elector makes (KubeClient has them; tests may wrap them). */
export interface LeaseApi {
  getLease(ns: string, name: string): Promise<KLease | undefined>;
  createLease(body: KLease): Promise<KLease>;
  replaceLease(body: KLease): Promise<KLease>;
}

export interface ElectorHooks {
  readonly logger?: EngineLogger;
  readonly onChange?: (leader: boolean) => void;
}

/** MicroTime as the API wants it: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

/**
 * Lease election (coordination.k8s.io/v1), client-go style. Expiry is judged by *our* clock from
 * when we last saw the Lease record change, never by comparing the holder's renewTime with our
 * clock, so clock skew between replicas cannot cause two leaders. `isLeader()` turns false as
 * soon as we see another holder, and also when our own renewals have failed for renewDeadline —
 * which is shorter than leaseDuration, so we stop writing before anyone else may start.
 * Wire it as `new Engine({ ..., isWriter: () => elector.isLeader() })`.
 */
/** The Lease settings the elector needs (the config's `enabled`/`identity` are the runtime's). */
export type LeaseSettings = Pick<LeaderOptions, 'namespace' | 'name' | 'leaseDurationSeconds' | 'renewDeadlineSeconds' | 'retryPeriodSeconds'>;

export class LeaderElector {
  readonly #api: LeaseApi;
  readonly #identity: string;
  readonly #o: LeaseSettings;
  readonly #hooks: ElectorHooks;
  #leading = false;
  readonly #listeners = new Set<(leader: boolean) => void>();
  #lastRenew = 0;
  #observed: { record: string; at: number } | undefined;
  #lease: KLease | undefined;
  #loop: Promise<void> | undefined;

  constructor(api: LeaseApi, identity: string, options: LeaseSettings, hooks: ElectorHooks = {}) {
    if (options.renewDeadlineSeconds >= options.leaseDurationSeconds) {
      throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'leader election: renewDeadlineSeconds must be less than leaseDurationSeconds', { terminal: true });
    }
    this.#api = api;
    this.#identity = identity;
    this.#o = options;
    this.#hooks = hooks;
  }

  get identity(): string {
    return this.#identity;
  }

  /** A follower retries every retryPeriod plus up to 20 % jitter (see `start`). */
  get takeoverMs(): number {
    return Math.ceil(this.#o.retryPeriodSeconds * 1000 * 1.2);
  }

  isLeader(): boolean {
    return this.#leading && Date.now() - this.#lastRenew < this.#o.renewDeadlineSeconds * 1000;
  }

  /** Campaigns and renews every retryPeriod until `signal` aborts. Never rejects. */
  start(signal: AbortSignal): void {
    this.#loop = (async () => {
      while (!signal.aborted) {
        await this.tryAcquireOrRenew();
        await sleep(this.#o.retryPeriodSeconds * 1000 * (this.#leading ? 1 : 1 + Math.random() * 0.2), signal);
      }
      // Abort without release() = a crash: we just stop renewing; the Lease expires on its own.
      this.#setLeading(false);
    })();
  }

  /** Resolves once the loop started by `start` has ended (after abort). */
  async stopped(): Promise<void> {
    await this.#loop;
  }

  /** Gives the Lease up so another replica takes over at once (graceful shutdown). */
  async release(): Promise<void> {
    const lease = this.#lease;
    const wasLeading = this.#leading;
    this.#setLeading(false);
    if (!wasLeading || lease?.spec?.holderIdentity !== this.#identity) return;
    const now = Date.now();
    try {
      this.#lease = await this.#api.replaceLease({
        ...lease,
        spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) },
      });
    } catch (err) {
      this.#hooks.logger?.warn({ err: describeError(err) }, 'leader election: could not release the Lease; it expires on its own');
    }
  }

  /** One acquire-or-renew attempt; returns whether we lead afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name } = this.#o;
    const now = Date.now();
    try {
      const current = await this.#api.getLease(namespace, name);
      const spec = {
        holderIdentity: this.#identity,
        leaseDurationSeconds: this.#o.leaseDurationSeconds,
        renewTime: microTime(now),
      };
      if (current === undefined) {
        this.#lease = await this.#api.createLease({ metadata: { name, namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } });
        return this.#won(now);
      }
      this.#lease = current;
      const held = current.spec ?? {};
      const record = JSON.stringify([held.holderIdentity ?? '', held.renewTime ?? '', held.leaseDurationSeconds ?? 0]);
      if (this.#observed?.record !== record) this.#observed = { record, at: now };
      const holder = held.holderIdentity ?? '';
      const ours = holder === this.#identity;
      const duration = (held.leaseDurationSeconds ?? this.#o.leaseDurationSeconds) * 1000;
      if (!ours && holder !== '' && this.#observed.at + duration > now) {
        this.#setLeading(false);
        return false;
      }
      this.#lease = await this.#api.replaceLease({
        ...current,
        spec: {
          ...held,
          ...spec,
          acquireTime: ours ? (held.acquireTime ?? microTime(now)) : microTime(now),
          leaseTransitions: (held.leaseTransitions ?? 0) + (ours ? 0 : 1),
        },
      });
      return this.#won(now);
    } catch (err) {
      // A conflict means someone else wrote first; anything else leaves us leading only until
      // renewDeadline passes (isLeader checks it), as client-go does.
      this.#hooks.logger?.debug({ err: describeError(err) }, 'leader election: acquire/renew failed');
      if (err instanceof BridgeError && err.code === 'ISTHMUS_REGISTRY_CONFLICT') this.#setLeading(false);
      return this.isLeader();
    }
  }

  /**
   * Every change of `isLeader()` that the elector itself makes. A lapse past renewDeadline turns
   * `isLeader()` false without an event (nothing runs then); the renewal that ends it is reported
   * as a gain, since a writer that stopped writing must re-check everything.
   */
  onChange(listener: (leader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #won(now: number): boolean {
    const lapsed = this.#leading && !this.isLeader();
    this.#lastRenew = now;
    if (lapsed) this.#emit(true);
    this.#setLeading(true);
    return true;
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.#hooks.logger?.info({ identity: this.#identity, leading }, leading ? 'leader election: became leader' : 'leader election: not leader');
    this.#emit(leading);
  }

  #emit(leading: boolean): void {
    this.#hooks.onChange?.(leading);
    for (const l of this.#listeners) l(leading);
  }
}
