import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, RegistryId, ServicePort, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey, sameRef } from '../../bridge/model/index.ts';
import type { EndpointField, SinkPlan, SinkState } from '../../bridge/ports/index.ts';
import { PlannedSink } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import type { ConsulClient, TxnOp } from './client.ts';
import { M, checkIdOf, fromRegistration, isOwned, refOfOwned, toRegistration, type ExportSettings, type Registration } from './encode.ts';
import type { HealthEntry, NativeNode } from './native.ts';
import { ownNodeServices, retireOwnNodes, watchOwnNodes } from './own-nodes.ts';
import { batch, nameHolder, nodeDiffers, nodeOp, planWrites, type Held } from './plan.ts';
import { isShardName, shardFilter, targetNode } from './shards.ts';
import { TxnBatcher } from './txn-batch.ts';

const FIELDS: readonly EndpointField[] = ['protocol', 'ready', 'serving', 'terminating', 'weight', 'zone', 'node', 'metadata', 'origin'];

export interface ConsulSinkOptions {
  readonly settings: ExportSettings;
  readonly nodeAddress: string;
  /** Synthetic nodes the exports are spread over (shards.ts); 1 = the single node. */
  readonly nodeShards: number;
  readonly maxTxnOps: number;
  readonly waitSeconds: number;
  readonly maxBackoffMs: number;
  readonly logger?: EngineLogger;
}

/** One read of a service: what we own of it on our nodes, and what else sits there. */
export interface ConsulState extends SinkState {
  /** Our instances of the ref (our marker or id form, ref's namespace) on any of our nodes, by service id. */
  readonly held: readonly Held[];
  /** Ids on our nodes under this service name that carry another bridge's marker. */
  readonly foreign: readonly string[];
  /** Other refs (keys) whose records of ours sit under the same Consul service name. */
  readonly sharers: readonly string[];
  /** The service's shard node as Consul holds it, when it holds any instance of this service. */
  readonly node?: NativeNode;
}

export interface ConsulPlan extends SinkPlan {
  readonly ref: ServiceRef;
  /** /v1/txn bodies, each led by the node upsert, in order. */
  readonly txns: readonly (readonly TxnOp[])[];
  /** Metadata left out for Consul's limits, per instance (logged when written). */
  readonly dropped: readonly { readonly id: string; readonly dropped: readonly string[] }[];
  /** Nothing is desired: the ref gives up its service name once this has run. */
  readonly removal: boolean;
}

/**
 * Model → Consul catalog. Every exported instance is a catalog service on a synthetic node
 * (`isthmus-<bridgeId>` or one of its shards, by service name: shards.ts) with our Meta markers,
 * tag `isthmus` and one check whose status we write (no agent runs it): passing when ready, the
 * configured draining status (warning by default) when draining, critical when down — not-ready
 * endpoints are written, never left out. Per pass: one read, a pure plan of only the records that
 * differ, then /v1/txn writes; only records we own are ever changed or deleted.
 */
export class ConsulSink extends PlannedSink<ConsulState, ConsulPlan> {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: ConsulClient;
  readonly #o: ConsulSinkOptions;
  readonly #resetListeners = new Set<() => void>();
  /** Nodes a transaction of ours created or updated (each leads with the node upsert). */
  readonly #written = new Set<string>();
  /** Consul service name → the ref (key) that writes it, so two refs never merge into one. */
  readonly #holders = new Map<string, string>();
  readonly #batcher: TxnBatcher;

  constructor(id: RegistryId, client: ConsulClient, options: ConsulSinkOptions) {
    super();
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#batcher = new TxnBatcher((ops) => client.txn(ops), options.maxTxnOps);
  }

  /** The configured node: shard 0, and the base of the other shards' names. */
  get node(): string {
    return this.#o.settings.node;
  }

  /** The node that holds (or will hold) the exported instances of Consul service `name`. */
  nodeOf(name: string): string {
    return targetNode(this.node, name, this.#o.nodeShards);
  }

  /**
   * Watches our nodes (all shards, one query) so a Consul that lost its state is noticed at once;
   * listeners should resync.
   */
  start(signal: AbortSignal): Promise<void> {
    watchOwnNodes({
      client: this.#client,
      base: this.node,
      waitSeconds: this.#o.waitSeconds,
      maxBackoffMs: this.#o.maxBackoffMs,
      signal,
      written: this.#written,
      onReset: () => {
        this.#o.logger?.warn({ registry: this.id, node: this.node }, 'consul lost one of our nodes or its index went backwards: re-registering what we own');
        for (const l of this.#resetListeners) l();
      },
    });
    return Promise.resolve();
  }

  /** Called when Consul lost state; the bridge wiring answers with an engine resync. */
  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /**
   * The pass's one read: the service's instances on any of our nodes (one GET on
   * /v1/health/service/:name filtered to our shard names: records another shard count or a
   * single-node version wrote are found, so plan moves them), split into what we own in ref's
   * namespace and the ids other bridges hold there.
   */
  async read(ref: ServiceRef): Promise<ConsulState> {
    const { body } = await this.#client.read<HealthEntry[] | null>(`/v1/health/service/${encodeURIComponent(ref.name)}`, {
      params: { filter: shardFilter(this.node, 'Node.Node') },
    });
    const target = this.nodeOf(ref.name);
    const held: Held[] = [];
    const foreign: string[] = [];
    const sharers = new Set<string>();
    let node: NativeNode | undefined;
    for (const e of body ?? []) {
      // The filter already did this; a Consul that ignored it must not hand us others' nodes.
      if (!isShardName(this.node, e.Node.Node)) continue;
      if (e.Node.Node === target) node ??= e.Node;
      if (!isOwned(e.Service, this.#o.settings.bridgeId)) {
        foreign.push(e.Service.ID);
        continue;
      }
      const owner = refOfOwned(e.Service, this.#o.settings);
      if (!sameRef(owner, ref)) {
        sharers.add(refKey(owner));
        continue;
      }
      const check = (e.Checks ?? []).find((c) => c.CheckID === checkIdOf(e.Service.ID));
      held.push({ service: e.Service, node: e.Node.Node, ...(check === undefined ? {} : { check }) });
    }
    // By id, the copy on the target node first: observed keeps one copy of a record mid-move.
    held.sort((a, b) => a.service.ID.localeCompare(b.service.ID) || Number(b.node === target) - Number(a.node === target));
    return { ref, observed: this.#observed(ref, held), held, foreign, sharers: [...sharers], ...(node === undefined ? {} : { node }) };
  }

  /**
   * The transactions that make `state` equal `desired` (undefined: remove all we own of the
   * ref). Pure but for the service-name claims: everything it compares — Meta, tags, address,
   * port, weights, check status and output, the node itself — was read by `read`. A ref whose
   * Consul service name another ref holds is refused with ISTHMUS_NAME_COLLISION.
   */
  plan(state: ConsulState, desired: ServiceSnapshot | undefined): ConsulPlan {
    const { bridgeId } = this.#o.settings;
    const node = this.nodeOf(state.ref.name);
    if (desired !== undefined) {
      const present = state.held.length > 0 ? [refKey(state.ref), ...state.sharers] : state.sharers;
      this.#checkName(state.ref, nameHolder(this.#holders.get(state.ref.name), present));
    } else if (state.held.length === 0 && this.#holders.get(state.ref.name) === refKey(state.ref)) {
      // Nothing to delete means no execute: the name is given up here instead.
      this.#holders.delete(state.ref.name);
    }
    const regs = uniqueIds((desired?.endpoints ?? []).map((ep) => toRegistration(state.ref, ep, this.#o.settings)));
    const taken = new Set(state.foreign);
    const clash = regs.find((r) => taken.has(r.service.ID));
    if (clash !== undefined) {
      throw new BridgeError('ISTHMUS_NOT_OWNED', `${this.id}: service id ${clash.service.ID} on our nodes (${node}…) is held by another bridge (same nodeName configured twice?); not overwritten`, {
        details: { registry: this.id, service: refKey(state.ref), id: clash.service.ID },
      });
    }
    const writes = planWrites(node, bridgeId, regs, state.held);
    const operations = writes.map((w) => w.operation);
    const lead = nodeOp(node, this.#o.nodeAddress, bridgeId);
    let txns = batch(lead, writes.map((w) => w.ops), this.#o.maxTxnOps);
    // Every transaction re-registers the node anyway; only a pass with nothing else to write
    // needs its own one when the node drifted (say nodeAddress was reconfigured).
    if (regs.length > 0 && state.node !== undefined && nodeDiffers(state.node, this.#o.nodeAddress, bridgeId)) {
      operations.unshift({ verb: 'update', record: `node ${node}` });
      if (txns.length === 0) txns = [[lead]];
    }
    const dropped = regs.filter((r) => r.dropped.length > 0).map((r) => ({ id: r.service.ID, dropped: r.dropped }));
    return { operations, ref: state.ref, txns, dropped, removal: desired === undefined };
  }

  async execute(plan: ConsulPlan): Promise<void> {
    // Plan checked the name already; two refs may both have planned before either wrote.
    const key = refKey(plan.ref);
    if (!plan.removal) {
      this.#checkName(plan.ref, this.#holders.get(plan.ref.name));
      this.#holders.set(plan.ref.name, key);
    }
    for (const d of plan.dropped) {
      this.#o.logger?.warn({ registry: this.id, service: refKey(plan.ref), id: d.id, dropped: d.dropped }, 'metadata over Consul limits (64 keys, 512-byte values) not written');
    }
    this.#o.logger?.debug({ registry: this.id, service: refKey(plan.ref), operations: plan.operations.length, txns: plan.txns.length }, 'consul writes');
    // One transaction (nearly every plan) may share a request with other services' plans. More
    // go alone and in order: a failure part-way stays simple (the engine re-reads and retries,
    // and what landed is a no-op).
    const [only] = plan.txns;
    if (plan.txns.length === 1 && only !== undefined) await this.#batcher.submit(only);
    else for (const ops of plan.txns) await this.#client.txn(ops);
    if (plan.txns.length > 0) this.#written.add(this.nodeOf(plan.ref.name));
    if (plan.removal && this.#holders.get(plan.ref.name) === key) this.#holders.delete(plan.ref.name);
  }

  /** Refuses to write `ref` into a Consul service name another ref of this bridge holds. */
  #checkName(ref: ServiceRef, holder: string | undefined): void {
    const key = refKey(ref);
    if (holder === undefined || holder === key) return;
    throw new BridgeError(
      'ISTHMUS_NAME_COLLISION',
      `${this.id}: ${key} and ${holder} both map to Consul service ${ref.name} (Consul has no namespaces); ${holder} keeps it, add a name mapping (map.prefix/suffix) to the route for ${key}`,
      { terminal: true, details: { registry: this.id, ref: key, heldBy: holder, service: ref.name } },
    );
  }

  async ownedRefs(): Promise<readonly ServiceRef[]> {
    const refs = new Map<string, ServiceRef>();
    for (const svc of await ownNodeServices(this.#client, this.node)) {
      if (!isOwned(svc, this.#o.settings.bridgeId)) continue;
      const ref = refOfOwned(svc, this.#o.settings);
      refs.set(refKey(ref), ref);
    }
    return [...refs.values()];
  }

  /** Cleanup's last step: each of our shard nodes goes once it is empty (own-nodes.ts). */
  retire(): Promise<void> {
    const log = this.#o.logger === undefined ? undefined : { logger: this.#o.logger, registry: this.id };
    return retireOwnNodes(this.#client, this.node, this.#o.settings.bridgeId, log);
  }

  /** What we own, in model form, one endpoint per id. Ports: each port name with the number most instances store. */
  #observed(ref: ServiceRef, held: readonly Held[]): ServiceSnapshot | undefined {
    if (held.length === 0) return undefined;
    const once = held.filter((h, i) => i === 0 || held[i - 1]?.service.ID !== h.service.ID);
    const endpoints = once.map((h) => fromRegistration(h.service, h.check, this.#o.settings));
    return { ref, ports: commonPorts(endpoints), endpoints, metadata: {}, origin: this.id };
  }
}

function commonPorts(endpoints: readonly Endpoint[]): ServicePort[] {
  const counts = new Map<string, Map<number, number>>();
  for (const ep of endpoints) {
    for (const [name, port] of Object.entries(ep.ports)) {
      const byPort = counts.get(name) ?? new Map<number, number>();
      byPort.set(port, (byPort.get(port) ?? 0) + 1);
      counts.set(name, byPort);
    }
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, byPort]) => ({ name, port: [...byPort.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]?.[0] ?? 0 }));
}

/**
 * One registration per service id. Two endpoints differing only in a non-primary port share an
 * id (origin, ref, address, primary port); writing both would flip the record on every pass.
 */
function uniqueIds(regs: readonly Registration[]): Registration[] {
  const byId = new Map<string, Registration>();
  for (const r of regs) {
    const prior = byId.get(r.service.ID);
    if (prior === undefined || (r.service.Meta[M.ports] ?? '') < (prior.service.Meta[M.ports] ?? '')) byId.set(r.service.ID, r);
  }
  return [...byId.values()];
}
