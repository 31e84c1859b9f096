import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey } from '../../bridge/model/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { EndpointField } from '../../bridge/ports/index.ts';
import { PlannedSink } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { NacosNamingClient } from './client.ts';
import { M, fromInstance, isIsthmusInstance, isOwned, sortEndpoints, type ExportSettings } from './encode.ts';
import { nameOfRef } from './naming.ts';
import { planNacos, type NacosPlan, type NacosState } from './plan.ts';
import { groupedName, nameOfInfo, type NacosInstance, type NacosName } from './native.ts';

/** Queries in flight while ownedRefs scans a group (one per service). */
const SCAN_CONCURRENCY = 16;

const FIELDS: readonly EndpointField[] = ['protocol', 'ready', 'serving', 'terminating', 'weight', 'zone', 'node', 'metadata', 'origin'];

export interface NacosSinkOptions {
  readonly settings: ExportSettings;
  readonly defaultGroup: string;
  readonly mode: 'auto' | 'ephemeral' | 'persistent';
  readonly pageSize: number;
  readonly logger?: EngineLogger;
}

interface Published {
  readonly ref: ServiceRef;
  readonly name: NacosName;
  readonly instances: readonly NacosInstance[];
}

/**
 * Model → Nacos. Ephemeral services (what Spring Cloud Alibaba and Dubbo register) get one
 * BatchInstanceRequest per changed service carrying the whole exported set: the instances live
 * as long as our gRPC connection, with no per-instance heartbeat. What this connection published
 * is remembered, so after a reconnect (new connection id, server dropped our instances) it is
 * re-published at once and the engine is told to resync. Persistent services get one
 * PersistentInstanceRequest per changed instance. Only instances carrying our `managed-by` are
 * ever compared, changed or withdrawn.
 */
export class NacosSink extends PlannedSink<NacosState, NacosPlan> {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: NacosNamingClient;
  readonly #o: NacosSinkOptions;
  readonly #published = new Map<string, Published>();
  /** Set once this replica leads: another connection's ephemeral instances no longer count as held. */
  #adopted = false;
  /** Service kind learnt per grouped name: true = ephemeral. */
  readonly #ephemeral = new Map<string, boolean>();
  readonly #resetListeners = new Set<() => void>();
  /**
   * Services where the server shows instances with our marker that this connection did not
   * publish: another connection holds them (the process we replace, still shutting down). We
   * subscribe to them, and when a push shows a change we ask for a resync, so the moment that
   * connection goes and takes its instances with it, we publish them on ours.
   */
  readonly #foreign = new Set<string>();
  #resetTimer: NodeJS.Timeout | undefined;
  #connections = 0;

  constructor(id: RegistryId, client: NacosNamingClient, options: NacosSinkOptions) {
    super();
    this.id = id;
    this.#client = client;
    this.#o = options;
  }

  start(signal: AbortSignal): Promise<void> {
    this.#client.connection.onConnected(() => {
      this.#connections++;
      this.#foreign.clear();
      if (this.#connections > 1) void this.#redo();
    });
    this.#client.connection.onPush('NotifySubscriberRequest', (body) => {
      const info = body['serviceInfo'] as { name?: string; groupName?: string } | undefined;
      if (info === undefined) return;
      const key = groupedName(nameOfInfo(info, { group: this.#o.defaultGroup, service: '' }));
      if (this.#foreign.has(key) && !this.#published.has(key)) this.#scheduleReset();
    });
    signal.addEventListener('abort', () => { clearTimeout(this.#resetTimer); }, { once: true });
    this.#client.connection.start(signal);
    return Promise.resolve();
  }

  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /** What this connection has published right now (tests and status). */
  publishedCount(): number {
    let n = 0;
    for (const p of this.#published.values()) n += p.instances.length;
    return n;
  }

  async ownedRefs(): Promise<readonly ServiceRef[]> {
    const refs = new Map<string, ServiceRef>();
    for (const p of this.#published.values()) if (p.instances.length > 0) refs.set(refKey(p.ref), p.ref);
    // Persistent records and another connection's ephemeral ones (a replaced process still
    // connected) are only visible on the server: scan the groups we write to.
    const groups = new Set([this.#o.defaultGroup, ...[...this.#published.values()].map((p) => p.name.group)]);
    for (const group of groups) {
      const services = await this.#client.listServices(group, this.#o.pageSize);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < services.length) {
          const service = services[next++] ?? '';
          const info = await this.#client.query({ group, service });
          const owned = (info.hosts ?? []).find((i) => isOwned(i, this.#o.settings.bridgeId));
          if (owned === undefined) continue;
          const ref = { namespace: owned.metadata?.[M.namespace] ?? this.#o.settings.namespace, name: group === this.#o.defaultGroup ? service : `${group}@@${service}` };
          refs.set(refKey(ref), ref);
        }
      };
      await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, services.length) }, worker));
    }
    return [...refs.values()];
  }

  adopt(): void {
    this.#adopted = true;
  }

  /**
   * The one read of a pass. Ephemeral: this connection's published set, known without a request;
   * else (nothing published yet, a restart, persistent) one ServiceQuery, which also teaches the
   * service's kind. Disabled instances never appear in a query (server behaviour), so a restart
   * republishes a set that holds a draining endpoint once.
   */
  async read(ref: ServiceRef): Promise<NacosState> {
    const name = nameOfRef(ref, this.#o.defaultGroup);
    const key = groupedName(name);
    const published = this.#published.get(key);
    const known = this.#o.mode === 'auto' ? this.#ephemeral.get(key) : this.#o.mode === 'ephemeral';
    if (published !== undefined && known !== false) return this.#state(ref, name, true, published.instances, true);
    const hosts = (await this.#client.query(name)).hosts ?? [];
    const ephemeral = known ?? this.#learnKind(key, hosts);
    const owned = hosts.filter((i) => isOwned(i, this.#o.settings.bridgeId) && (i.metadata?.[M.namespace] ?? this.#o.settings.namespace) === ref.namespace);
    if (!ephemeral) return this.#state(ref, name, false, owned, false);
    if (owned.length > 0) await this.#watchForeign(name);
    // After adopt(), an ephemeral instance another connection holds (the old leader, lingering)
    // is not ours to rely on: it is published on ours too and survives that connection's close.
    return this.#state(ref, name, true, this.#adopted ? owned.filter((i) => i.ephemeral === false) : owned, false);
  }

  plan(state: NacosState, desired: ServiceSnapshot | undefined): NacosPlan {
    return planNacos(state, desired, this.#o.settings);
  }

  async execute(plan: NacosPlan): Promise<void> {
    const { name, ref } = plan;
    const key = groupedName(name);
    for (const w of plan.writes) {
      switch (w.type) {
        case 'publish':
          await this.#write(key, () => this.#client.batchRegister(name, w.instances));
          this.#published.set(key, { ref, name, instances: w.instances });
          if (this.#foreign.delete(key)) void this.#client.unsubscribe(name).catch(() => undefined);
          break;
        case 'withdraw':
          await this.#withdraw(key, name, w.held);
          this.#published.delete(key);
          break;
        case 'register':
          await this.#write(key, () => this.#client.registerPersistent(name, w.instance));
          break;
        case 'deregister':
          await this.#write(key, () => this.#client.deregisterPersistent(name, w.instance));
          break;
      }
    }
  }

  #state(ref: ServiceRef, name: NacosName, ephemeral: boolean, held: readonly NacosInstance[], ownConnection: boolean): NacosState {
    const observed = held.length === 0
      ? undefined
      : { ref, ports: [{ name: this.#o.settings.portName, port: held[0]?.port ?? 0 }], endpoints: sortEndpoints(held.map((i) => fromInstance(i, this.#o.settings))), metadata: {}, origin: this.id };
    return { ref, observed, name, ephemeral, held, ownConnection };
  }

  /**
   * Our marked instances held by another connection (the process we replace, still shutting
   * down): subscribe, so the push that shows them gone asks for a resync and we publish them on
   * ours. Done on read, not execute, because a follower replica only ever reads.
   */
  async #watchForeign(name: NacosName): Promise<void> {
    const key = groupedName(name);
    if (this.#published.has(key) || this.#foreign.has(key)) return;
    // Remembered only once subscribed, so a failed subscription is tried again by the next read.
    await this.#client.subscribe(name);
    this.#foreign.add(key);
  }

  /**
   * Auto mode: the kind of the service's foreign instances (else of any), remembered per
   * service. An empty service says nothing, so it gets the default (ephemeral, what Spring
   * Cloud Alibaba and Dubbo register) and is asked again next time.
   */
  #learnKind(key: string, hosts: readonly NacosInstance[]): boolean {
    const other = hosts.find((i) => !isIsthmusInstance(i)) ?? hosts[0];
    if (other === undefined) return true;
    const ephemeral = other.ephemeral !== false;
    this.#ephemeral.set(key, ephemeral);
    return ephemeral;
  }

  #scheduleReset(): void {
    if (this.#resetTimer !== undefined) return;
    this.#resetTimer = setTimeout(() => {
      this.#resetTimer = undefined;
      for (const l of this.#resetListeners) l();
    }, 50);
  }

  async #withdraw(key: string, name: NacosName, instances: readonly NacosInstance[]): Promise<void> {
    await this.#write(key, async () => {
      try {
        // An empty batch empties this connection's publish record of the service (verified on
        // 3.1: the server has no batchDeregisterInstance type).
        await this.#client.batchRegister(name, []);
      } catch (err) {
        // Servers that refuse an empty batch: one deregister drops the connection's whole
        // publish record of the service just the same.
        if (!(err instanceof BridgeError) || err.code !== 'ISTHMUS_REGISTRY_REJECTED' || instances[0] === undefined) throw err;
        await this.#client.deregisterEphemeral(name, instances[0]);
      }
    });
  }

  async #write(key: string, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      // A kind mismatch: Nacos' refusal names the service's real kind ("… is persistent service,
      // can't register ephemeral instance"), so the retry's read uses it; otherwise re-learn.
      if (err instanceof BridgeError && /ephemeral|persistent/i.test(err.message)) {
        const said = /is (ephemeral|persistent) service/i.exec(err.message)?.[1]?.toLowerCase();
        if (said === undefined) this.#ephemeral.delete(key);
        else this.#ephemeral.set(key, said === 'ephemeral');
      }
      throw err;
    }
  }

  /** A new connection has nothing published: publish everything again, then ask for a resync. */
  async #redo(): Promise<void> {
    const all = [...this.#published.values()];
    let failed = 0;
    for (const p of all) {
      try {
        if (p.instances.length > 0) await this.#client.batchRegister(p.name, p.instances);
      } catch (err) {
        failed++;
        this.#o.logger?.warn({ registry: this.id, service: groupedName(p.name), err: describeError(err) }, 'nacos re-publish after reconnect failed; the resync retries');
      }
    }
    this.#o.logger?.info({ registry: this.id, services: all.length, failed }, 'nacos reconnected: re-published our ephemeral instances');
    for (const l of this.#resetListeners) l();
  }
}
