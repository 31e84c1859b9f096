import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey, sameRef } from '../../bridge/model/index.ts';
import type { EndpointField, Sink } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { ConsulClient } from './client.ts';
import { M, checkIdOf, fromRegistration, isOwned, refOfOwned, toRegistration, type ExportSettings } from './encode.ts';
import type { HealthEntry, NodeServices } from './native.ts';
import { batch, nodeOp, planWrites, type Held } from './plan.ts';
import { runWatch } from './watch.ts';

/** Upper bound on the blocking wait of the sink's own-node watch (see start()). */
const NODE_WATCH_WAIT_SECONDS = 5;

const FIELDS: readonly EndpointField[] = ['protocol', 'ready', 'serving', 'terminating', 'weight', 'zone', 'node', 'metadata', 'origin'];

export interface ConsulSinkOptions {
  readonly settings: ExportSettings;
  readonly nodeAddress: string;
  readonly maxTxnOps: number;
  readonly waitSeconds: number;
  readonly maxBackoffMs: number;
  readonly logger?: EngineLogger;
}

/**
 * Model → Consul catalog. Every exported instance is a catalog service on the synthetic node
 * `isthmus-<bridgeId>` with our Meta markers, tag `isthmus` and one check whose status we write
 * (no agent runs it). Writes go through /v1/txn, only for records that differ, and only records
 * we own are ever changed or deleted.
 */
export class ConsulSink implements Sink {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: ConsulClient;
  readonly #o: ConsulSinkOptions;
  readonly #resetListeners = new Set<() => void>();

  constructor(id: RegistryId, client: ConsulClient, options: ConsulSinkOptions) {
    this.id = id;
    this.#client = client;
    this.#o = options;
  }

  get node(): string {
    return this.#o.settings.node;
  }

  /**
   * Watches our own node so a Consul that lost its state (a dev-mode or disaster restart: the
   * index goes backwards or our node vanishes) is noticed at once; listeners should resync.
   */
  start(signal: AbortSignal): Promise<void> {
    let seenNode = false;
    void runWatch<NodeServices | null>({
      client: this.#client,
      path: `/v1/catalog/node-services/${encodeURIComponent(this.node)}`,
      // Short waits on purpose: a query sent to a freshly restarted Consul with our old, higher
      // index blocks for the whole wait before the backwards index shows, so a long wait
      // would delay re-registration by minutes. One cheap read every few seconds is the price.
      waitSeconds: Math.min(this.#o.waitSeconds, NODE_WATCH_WAIT_SECONDS),
      minIntervalMs: 250,
      maxBackoffMs: this.#o.maxBackoffMs,
      signal,
      onData: (body, _index, reset) => {
        const present = body?.Node !== null && body?.Node !== undefined;
        if (reset || (seenNode && !present)) {
          this.#o.logger?.warn({ registry: this.id, node: this.node }, 'consul lost our node or its index went backwards: re-registering what we own');
          for (const l of this.#resetListeners) l();
        }
        seenNode = present;
      },
      onError: () => undefined, // apply/observe report errors where the engine can see them
    });
    return Promise.resolve();
  }

  /** Called when Consul lost state; the bridge wiring answers with an engine resync. */
  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  async observe(ref: ServiceRef): Promise<ServiceSnapshot | undefined> {
    const held = await this.#held(ref);
    if (held.length === 0) return undefined;
    const endpoints = held.map((h) => fromRegistration(h.service, h.check, this.#o.settings));
    const first = held[0]?.service;
    return { ref, ports: [{ name: this.#o.settings.portName, port: first?.Port ?? 0 }], endpoints, metadata: {}, origin: this.id };
  }

  async ownedRefs(): Promise<readonly ServiceRef[]> {
    const { body } = await this.#client.read<NodeServices | null>(`/v1/catalog/node-services/${encodeURIComponent(this.node)}`);
    const refs = new Map<string, ServiceRef>();
    for (const svc of body?.Services ?? []) {
      if (!isOwned(svc, this.#o.settings.bridgeId)) continue;
      const ref = refOfOwned(svc, this.#o.settings);
      refs.set(refKey(ref), ref);
    }
    return [...refs.values()];
  }

  async apply(desired: ServiceSnapshot): Promise<void> {
    const regs = desired.endpoints.map((ep) => toRegistration(desired.ref, ep, this.#o.settings));
    for (const r of regs) {
      if (r.dropped.length > 0) {
        this.#o.logger?.warn({ registry: this.id, service: refKey(desired.ref), id: r.service.ID, dropped: r.dropped }, 'metadata over Consul limits (64 keys, 512-byte values) not written');
      }
    }
    await this.#write(this.#plan(desired.ref, regs, await this.#held(desired.ref)));
  }

  async remove(ref: ServiceRef): Promise<void> {
    await this.#write(this.#plan(ref, [], await this.#held(ref)));
  }

  #plan(ref: ServiceRef, regs: Parameters<typeof planWrites>[2], held: readonly Held[]): ReturnType<typeof batch> {
    const { bridgeId, node } = this.#o.settings;
    const groups = planWrites(node, bridgeId, regs, held);
    if (groups.length > 0) this.#o.logger?.debug({ registry: this.id, service: refKey(ref), instances: groups.length }, 'consul writes planned');
    return batch(nodeOp(node, this.#o.nodeAddress, bridgeId), groups, this.#o.maxTxnOps);
  }

  /**
   * Cleanup's last step: our synthetic node goes once no service at all is left on it. A node
   * whose meta names another bridge is not ours; a node still holding services is left alone.
   */
  async retire(): Promise<void> {
    const { body } = await this.#client.read<NodeServices | null>(`/v1/catalog/node-services/${encodeURIComponent(this.node)}`);
    const node = body?.Node;
    if (node === null || node === undefined) return;
    if (node.Meta?.[M.managedBy] !== this.#o.settings.bridgeId) return;
    const left = body?.Services ?? [];
    if (left.length > 0) {
      this.#o.logger?.warn({ registry: this.id, node: this.node, services: left.length }, 'synthetic node still holds services; left in place');
      return;
    }
    await this.#client.txn([{ Node: { Verb: 'delete', Node: { Node: this.node } } }]);
  }

  async #write(txns: ReturnType<typeof batch>): Promise<void> {
    // Sequential on purpose: a rollout of one service is a handful of transactions, and order
    // keeps a failure part-way simple (the engine retries the whole target, and what landed is a no-op).
    for (const ops of txns) await this.#client.txn(ops);
  }

  /** What we own of `ref` in Consul now: our node's instances of the service, in ref's namespace. */
  async #held(ref: ServiceRef): Promise<Held[]> {
    const { body } = await this.#client.read<HealthEntry[] | null>(`/v1/health/service/${encodeURIComponent(ref.name)}`, {
      params: { filter: `Node.Node == ${JSON.stringify(this.node)}` },
    });
    const held: Held[] = [];
    for (const e of body ?? []) {
      if (!isOwned(e.Service, this.#o.settings.bridgeId)) continue;
      if (!sameRef(refOfOwned(e.Service, this.#o.settings), ref)) continue;
      const check = (e.Checks ?? []).find((c) => c.CheckID === checkIdOf(e.Service.ID));
      held.push(check === undefined ? { service: e.Service } : { service: e.Service, check });
    }
    return held;
  }
}
