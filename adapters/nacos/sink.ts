import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey } from '../../bridge/model/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { EndpointField, Sink } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { NacosNamingClient } from './client.ts';
import { M, fromInstance, isIsthmusInstance, isOwned, sameInstances, sortEndpoints, toInstance, type ExportSettings } from './encode.ts';
import { nameOfRef } from './naming.ts';
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
  instances: NacosInstance[];
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
export class NacosSink implements Sink {
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

  async observe(ref: ServiceRef): Promise<ServiceSnapshot | undefined> {
    const held = await this.#held(ref);
    if (held.length === 0) return undefined;
    const endpoints = sortEndpoints(held.map((i) => fromInstance(i, this.#o.settings)));
    return { ref, ports: [{ name: this.#o.settings.portName, port: held[0]?.port ?? 0 }], endpoints, metadata: {}, origin: this.id };
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

  async apply(desired: ServiceSnapshot): Promise<void> {
    const name = nameOfRef(desired.ref, this.#o.defaultGroup);
    const key = groupedName(name);
    const ephemeral = await this.#kind(name, desired.endpoints.length > 0);
    const want = desired.endpoints.map((ep) => toInstance(desired.ref, ep, this.#o.settings, ephemeral));
    const published = this.#published.get(key);
    if (ephemeral) {
      const held = published?.instances ?? (await this.#serverHeld(name, desired.ref));
      if (sameInstances(want, held)) return;
      if (want.length === 0) {
        if (published !== undefined && published.instances.length > 0) await this.#withdraw(name, published.instances);
        this.#published.delete(key);
        return;
      }
      await this.#write(name, () => this.#client.batchRegister(name, want));
      this.#published.set(key, { ref: desired.ref, name, instances: want });
      if (this.#foreign.delete(key)) void this.#client.unsubscribe(name).catch(() => undefined);
      return;
    }
    const held = await this.#serverOwned(name, desired.ref);
    const byAddr = new Map(held.map((i) => [`${i.ip}:${i.port}`, i]));
    for (const i of want) {
      const have = byAddr.get(`${i.ip}:${i.port}`);
      byAddr.delete(`${i.ip}:${i.port}`);
      // The server health-checks persistent instances itself: its verdict is not a difference to correct.
      if (have === undefined || !sameInstances([i], [{ ...have, healthy: i.healthy ?? true }])) await this.#write(name, () => this.#client.registerPersistent(name, i));
    }
    for (const i of byAddr.values()) await this.#write(name, () => this.#client.deregisterPersistent(name, { ...i, ephemeral: false }));
  }

  async remove(ref: ServiceRef): Promise<void> {
    await this.apply({ ref, ports: [], endpoints: [], metadata: {}, origin: this.id });
  }

  /** Ours in `ref`: what this connection published, else what the server shows with our marker. */
  async #held(ref: ServiceRef): Promise<NacosInstance[]> {
    const name = nameOfRef(ref, this.#o.defaultGroup);
    const published = this.#published.get(groupedName(name));
    if (published !== undefined) return published.instances;
    return this.#serverHeld(name, ref);
  }

  /**
   * What the server shows with our marker, as far as it is ours to rely on: after adopt(), an
   * ephemeral instance held by another connection (the old leader, lingering) is not, so it
   * gets published on ours too and survives that connection's close.
   */
  async #serverHeld(name: NacosName, ref: ServiceRef): Promise<NacosInstance[]> {
    const owned = await this.#serverOwned(name, ref);
    return this.#adopted ? owned.filter((i) => i.ephemeral === false) : owned;
  }

  async #serverOwned(name: NacosName, ref: ServiceRef): Promise<NacosInstance[]> {
    const info = await this.#client.query(name);
    const owned = (info.hosts ?? []).filter((i) => isOwned(i, this.#o.settings.bridgeId) && (i.metadata?.[M.namespace] ?? this.#o.settings.namespace) === ref.namespace);
    const key = groupedName(name);
    if (owned.length > 0 && !this.#published.has(key) && !this.#foreign.has(key)) {
      this.#foreign.add(key);
      await this.#client.subscribe(name);
    }
    return owned;
  }

  #scheduleReset(): void {
    if (this.#resetTimer !== undefined) return;
    this.#resetTimer = setTimeout(() => {
      this.#resetTimer = undefined;
      for (const l of this.#resetListeners) l();
    }, 50);
  }

  /**
   * Ephemeral or persistent: configured, or (auto) what the service's foreign instances are —
   * Nacos refuses to mix the two in one service. Learnt once per service.
   */
  async #kind(name: NacosName, needed: boolean): Promise<boolean> {
    if (this.#o.mode !== 'auto') return this.#o.mode === 'ephemeral';
    const key = groupedName(name);
    const known = this.#ephemeral.get(key);
    if (known !== undefined || !needed) return known ?? true;
    const info = await this.#client.query(name);
    const other = (info.hosts ?? []).find((i) => !isIsthmusInstance(i)) ?? (info.hosts ?? [])[0];
    const ephemeral = other?.ephemeral !== false;
    this.#ephemeral.set(key, ephemeral);
    return ephemeral;
  }

  async #withdraw(name: NacosName, instances: readonly NacosInstance[]): Promise<void> {
    await this.#write(name, async () => {
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

  async #write(name: NacosName, op: () => Promise<void>): Promise<void> {
    try {
      await op();
    } catch (err) {
      // The service changed kind under us (or auto guessed wrong for an empty service): forget, so the retry re-learns.
      if (err instanceof BridgeError && /ephemeral|persistent/i.test(err.message)) this.#ephemeral.delete(groupedName(name));
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
