import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey } from '../../bridge/model/index.ts';
import type { EndpointField } from '../../bridge/ports/index.ts';
import { PlannedSink } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { EurekaClient } from './client.ts';
import { M, fromInstance, isOwned, sortEndpoints, type ExportSettings } from './encode.ts';
import { LeaseKeeper, type Lease } from './leases.ts';
import { appNameOf, asArray, idOf, type EurekaInstance, type EurekaStatus } from './native.ts';
import { planEureka, type EurekaPlan, type EurekaState } from './plan.ts';

const FIELDS: readonly EndpointField[] = ['protocol', 'ready', 'serving', 'terminating', 'weight', 'zone', 'node', 'metadata', 'origin'];

export interface EurekaSinkOptions {
  readonly settings: ExportSettings;
  readonly renewConcurrency: number;
  readonly logger?: EngineLogger;
}

/**
 * Model → Eureka, the way a Spring Cloud client keeps itself registered: one POST per new or
 * changed instance, health as the status override, a PUT heartbeat per instance per renewal
 * interval (LeaseKeeper), a re-registration when a heartbeat answers 404, a DELETE on removal.
 *
 * What we hold is known from our own writes: Eureka serves reads from a response cache (30 s by
 * default), so a read right after a write would miss it and plan the write again. The server is
 * read once per application, the first time a ref is asked for (a restart, a new leader): its
 * owned instances are adopted and renewed from then on.
 */
export class EurekaSink extends PlannedSink<EurekaState, EurekaPlan> {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: EurekaClient;
  readonly #o: EurekaSinkOptions;
  readonly #leases: LeaseKeeper;
  /** Refs whose owned instances are known here (read from the server once, or written). */
  readonly #known = new Map<string, ServiceRef>();
  readonly #resetListeners = new Set<() => void>();
  #lastDirty = 0;

  constructor(id: RegistryId, client: EurekaClient, options: EurekaSinkOptions) {
    super();
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#leases = new LeaseKeeper(client, {
      intervalMs: options.settings.renewIntervalSeconds * 1000,
      concurrency: options.renewConcurrency,
      logger: options.logger,
      reregister: (lease) => this.#register(lease.app, lease.instance),
      lost: (lease) => {
        this.#known.delete(refKey(lease.ref));
        for (const l of this.#resetListeners) l();
      },
    });
  }

  start(signal: AbortSignal): Promise<void> {
    this.#leases.start(signal);
    return Promise.resolve();
  }

  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /** Instances this process keeps alive (tests, status, the cost figure in the README). */
  leaseCount(): number {
    return this.#leases.size;
  }

  get client(): EurekaClient {
    return this.#client;
  }

  /** Known refs with leases, plus every ref the server shows an owned instance of (a previous process's). */
  async ownedRefs(): Promise<readonly ServiceRef[]> {
    const refs = new Map<string, ServiceRef>();
    for (const l of this.#leases.all()) refs.set(refKey(l.ref), l.ref);
    const { body } = await this.#client.applications();
    for (const app of asArray(body.application)) {
      for (const i of asArray(app.instance)) {
        if (!isOwned(i, this.#o.settings.bridgeId)) continue;
        const ref = this.#refOf(app.name ?? i.app ?? '', i);
        refs.set(refKey(ref), ref);
      }
    }
    return [...refs.values()];
  }

  async read(ref: ServiceRef): Promise<EurekaState> {
    const app = appNameOf(ref.name);
    const k = refKey(ref);
    if (!this.#known.has(k)) {
      const found = await this.#client.application(app);
      const owned = asArray(found?.instance).filter((i) => isOwned(i, this.#o.settings.bridgeId) && refKey(this.#refOf(app, i)) === k);
      // Adopted leases may be close to expiry (we were down a while): renew them soon, spread
      // over a few seconds rather than all at once.
      for (const i of owned) if (this.#leases.get(app, idOf(i)) === undefined) this.#leases.put(ref, app, i, false, Math.floor(Math.random() * Math.min(5000, this.#o.settings.renewIntervalSeconds * 1000)));
      this.#known.set(k, ref);
    }
    return this.#state(ref, app);
  }

  plan(state: EurekaState, desired: ServiceSnapshot | undefined): EurekaPlan {
    return planEureka(state, desired, this.#o.settings);
  }

  async execute(plan: EurekaPlan): Promise<void> {
    const { app, ref } = plan;
    this.#known.set(refKey(ref), ref);
    // A renewal in flight may be re-registering one of these: let it finish first.
    await Promise.all(this.#held(ref, app).map((l) => l.busy ?? Promise.resolve()));
    for (const w of plan.writes) {
      const id = idOf(w.instance);
      switch (w.type) {
        case 'register': {
          const registered = await this.#register(app, w.instance, this.#leases.get(app, id)?.instance);
          const lease = this.#leases.put(ref, app, registered, true);
          lease.mine = true;
          break;
        }
        case 'override':
        case 'clear': {
          const status: EurekaStatus = w.type === 'override' ? w.status : 'UP';
          const ok = w.type === 'override' ? await this.#client.overrideStatus(app, id, status) : await this.#client.clearOverride(app, id, 'UP');
          // Gone meanwhile (evicted): a registration carries the override with it.
          const lease = this.#leases.get(app, id);
          const base = lease?.instance ?? w.instance;
          const next = ok ? { ...base, status, overriddenStatus: w.type === 'override' ? status : 'UNKNOWN' } : await this.#register(app, w.instance);
          this.#leases.put(ref, app, next, true).mine = true;
          break;
        }
        case 'cancel': {
          const lease = this.#leases.get(app, id);
          if (lease !== undefined) this.#leases.remove(lease);
          await this.#client.cancel(app, id);
          break;
        }
      }
    }
    // Every wanted instance is ours to keep alive now, adopted ones included.
    for (const w of plan.want) {
      const lease = this.#leases.get(app, idOf(w));
      if (lease !== undefined) lease.mine = true;
    }
  }

  #held(ref: ServiceRef, app: string): Lease[] {
    const k = refKey(ref);
    return [...this.#leases.all()].filter((l) => l.app === app && refKey(l.ref) === k);
  }

  #state(ref: ServiceRef, app: string): EurekaState {
    const held = this.#held(ref, app).map((l) => l.instance);
    const observed = held.length === 0
      ? undefined
      : {
          ref,
          ports: [{ name: this.#o.settings.portName, port: Number(held[0]?.port?.$ ?? 0) }],
          endpoints: sortEndpoints(held.map((i) => fromInstance(i, this.#o.settings))),
          metadata: {},
          origin: this.id,
        };
    return { ref, observed, app, held };
  }

  /** The ref an owned instance belongs to: namespace marker, exact name from the vipAddress. */
  #refOf(app: string, i: EurekaInstance): ServiceRef {
    const name = i.vipAddress !== undefined && i.vipAddress.toUpperCase() === app.toUpperCase() ? i.vipAddress : app.toLowerCase();
    return { namespace: i.metadata?.[M.namespace] ?? this.#o.settings.namespace, name };
  }

  /**
   * POST with a lastDirtyTimestamp newer than any we used and than the server's copy: the server
   * keeps whichever registration is dirtier, so an older stamp would be silently ignored.
   */
  async #register(app: string, instance: EurekaInstance, prior?: EurekaInstance): Promise<EurekaInstance> {
    const floor = Number(prior?.lastDirtyTimestamp ?? instance.lastDirtyTimestamp ?? 0);
    this.#lastDirty = Math.max(Date.now(), this.#lastDirty + 1, (Number.isFinite(floor) ? floor : 0) + 1);
    const stamp = String(this.#lastDirty);
    const body: EurekaInstance = { ...instance, lastDirtyTimestamp: stamp, lastUpdatedTimestamp: stamp };
    await this.#client.register(app, body);
    return body;
  }
}
