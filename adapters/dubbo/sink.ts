import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey } from '../../bridge/model/index.ts';
import type { EndpointField } from '../../bridge/ports/index.ts';
import { PlannedSink } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { forEachBounded } from '../shared/bounded.ts';
import { BAD_VERSION, CREATE_MODE, NODE_EXISTS, NO_NODE, aclsFor, zkCode, type ZkClient } from './client.ts';
import { dirMark, type ExportSettings, type WantedNode } from './encode.ts';
import { planDubbo, type DubboPlan, type DubboState, type MappingRead } from './plan.ts';
import { DubboReader, readMapping } from './reader.ts';
import { isEmptyDoc, recordPath } from './record.ts';
import { commitAtOnce } from './record-commit.ts';
import { RecordShards } from './record-shards.ts';
import { retireDubbo } from './retire.ts';

const FIELDS: readonly EndpointField[] = ['weight', 'origin'];
/** Node writes of one plan in flight at once, per directory and directories at once. */
const WRITES_IN_FLIGHT = 16;
const DIRS_IN_FLIGHT = 4;

export interface DubboSinkOptions {
  readonly settings: ExportSettings;
  /** Where the sink records what it added to shared nodes (outside the Dubbo tree); default `/isthmus`. */
  readonly stateRoot?: string;
  readonly digest?: string;
  readonly logger?: EngineLogger;
}

export type { DubboPlan, DubboState } from './plan.ts';

/**
 * Model → ZooKeeper. Each ready endpoint becomes one provider URL per exported interface
 * (Dubbo 2.7 and Dubbo 3 interface-level consumers) and one `/services/<app>/<ip:port>` instance
 * (Dubbo 3 application-level consumers), plus the MetadataInfo under `<root>/metadata` and the
 * interface→application mapping so application-level consumers never need a MetadataService
 * on the pod. Only nodes carrying our `isthmus.managed-by` are changed or deleted.
 *
 * Per pass: `read` (reader.ts) reads what we hold of the ref, `plan` (plan.ts) compares it with
 * what the desired snapshot renders, `execute` writes the difference in a consumer-safe order.
 */
export class DubboSink extends PlannedSink<DubboState, DubboPlan> {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: ZkClient;
  readonly #o: DubboSinkOptions;
  readonly #reader: DubboReader;
  readonly #resetListeners = new Set<() => void>();
  /** Data of every directory we create: cleanup deletes only empty directories carrying it. */
  readonly #mark: Buffer;
  readonly #stateRoot: string;
  readonly #record: RecordShards;

  constructor(id: RegistryId, client: ZkClient, options: DubboSinkOptions) {
    super();
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#reader = new DubboReader(client, options.settings, id);
    this.#mark = dirMark(options.settings);
    this.#stateRoot = options.stateRoot ?? '/isthmus';
    this.#record = new RecordShards(client, recordPath(this.#stateRoot, options.settings), this.#mark, options.digest);
  }

  start(signal: AbortSignal): Promise<void> {
    let session = this.#client.generation;
    const off = this.#client.onSession((generation) => {
      // Watches may not have survived: what the reader cached rests on them.
      this.#reader.forget(generation !== session);
      session = generation;
      // A new session lost our ephemeral nodes with the old one: the engine re-applies at once.
      if (generation > 1 && !this.#o.settings.persistent) for (const l of this.#resetListeners) l();
    });
    signal.addEventListener('abort', off, { once: true });
    this.#client.start();
    return Promise.resolve();
  }

  onReset(listener: () => void): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  read(ref: ServiceRef): Promise<DubboState> {
    return this.#reader.read(ref);
  }

  plan(state: DubboState, desired: ServiceSnapshot | undefined): DubboPlan {
    return planDubbo(state, desired, this.#o.settings);
  }

  ownedRefs(): Promise<readonly ServiceRef[]> {
    return this.#reader.ownedRefs();
  }

  async execute(plan: DubboPlan): Promise<void> {
    // Remembered first: if a write below fails, the next read still looks where it may have landed.
    this.#reader.place(plan.ref, plan.dirs);
    const service = refKey(plan.ref);
    if (plan.problems.length > 0) this.#o.logger?.warn({ registry: this.id, service, problems: plan.problems }, 'dubbo export: annotation values or endpoints left out');
    for (const path of plan.taken) this.#o.logger?.warn({ registry: this.id, service, path }, 'dubbo node exists and is not ours; not exported');
    const acls = aclsFor(this.#o.digest);
    const mode = this.#o.settings.persistent ? CREATE_MODE.PERSISTENT : CREATE_MODE.EPHEMERAL;
    // Metadata and mapping first: an application-level consumer resolves an instance through them.
    // Usually one transaction with their record entries (record-commit.ts); when ZooKeeper refuses
    // it (a node changed since the read), step by step: the application is recorded before its
    // metadata is written (cleanup verifies the marker in the metadata itself), a mapping change
    // only after it succeeded (the mapping has no marker).
    if ((plan.metadata !== undefined || plan.mappings.length > 0) && !(await commitAtOnce(this.#client, this.#record, plan, this.#mark))) {
      await this.#record.update({ app: plan.application });
      if (plan.metadata !== undefined) await this.#ensure(plan.metadata);
      for (const m of plan.mappings) {
        const done = await this.#map(m.path, plan.application, m.seen);
        if (done !== undefined) await this.#record.update({ app: plan.application, mapping: { path: m.path, created: done === 'created' } });
      }
    }
    // Create before delete, so a replaced provider URL never leaves consumers without the endpoint;
    // only a node at the very same path (an instance) must go first. Nodes are independent, so
    // several are in flight at once (ZooKeeper then commits them in fewer log syncs), except that
    // the first node of each directory goes alone: it creates the directory if need be.
    const write = async (w: DubboPlan['writes'][number], dirMissing = false): Promise<void> => {
      if (w.replaces !== undefined) await this.#removeNode(w.replaces.path, w.replaces.version);
      try {
        await this.#client.create(w.node.path, w.node.data, mode, acls, this.#mark, dirMissing);
      } catch (err) {
        if (zkCode(err) !== NODE_EXISTS) throw err;
        // Same ip:port registered by a real provider or another bridge since the read: never overwrite it.
        this.#o.logger?.warn({ registry: this.id, service, path: w.node.path }, 'dubbo node exists and is not ours; not exported');
      }
    };
    const byDir = new Map<string, DubboPlan['writes'][number][]>();
    for (const w of plan.writes) {
      const dir = w.node.path.slice(0, w.node.path.lastIndexOf('/'));
      const group = byDir.get(dir);
      if (group === undefined) byDir.set(dir, [w]);
      else group.push(w);
    }
    await forEachBounded([...byDir.entries()], DIRS_IN_FLIGHT, async ([dir, [first, ...rest]]) => {
      if (first !== undefined) await write(first, !this.#reader.listed(dir));
      await forEachBounded(rest, WRITES_IN_FLIGHT, write);
    });
    await forEachBounded(plan.deletes, WRITES_IN_FLIGHT, (h) => this.#removeNode(h.path, h.version));
  }

  /** Cleanup: takes back mapping entries, metadata and directories we created (see retire.ts). */
  async retire(): Promise<void> {
    const left = await retireDubbo(this.#client, { ...this.#o.settings, stateRoot: this.#stateRoot }, await this.#record.shards());
    if (!isEmptyDoc(left)) this.#o.logger?.warn({ registry: this.id, record: this.#record.path, left }, 'dubbo cleanup kept mapping entries or metadata still in use by a provider');
  }

  /**
   * Deletes a node of ours with the version read: if it was replaced since (a native provider
   * took the `ip:port`), ZooKeeper refuses and the engine re-reads instead of deleting theirs.
   */
  async #removeNode(path: string, version: number): Promise<void> {
    try {
      await this.#client.remove(path, version);
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
    }
  }

  /** Creates a persistent, content-addressed node (MetadataInfo); one that exists is the same. */
  async #ensure(node: WantedNode): Promise<void> {
    try {
      await this.#client.create(node.path, node.data, CREATE_MODE.PERSISTENT, aclsFor(undefined), this.#mark);
    } catch (err) {
      if (zkCode(err) !== NODE_EXISTS) throw err;
    }
  }

  /**
   * Adds `app` to the comma list of a mapping node, compare-and-set on its version as Dubbo does,
   * starting from what `read` saw; says what it did.
   */
  async #map(path: string, app: string, seen: MappingRead | undefined): Promise<'created' | 'added' | undefined> {
    let known = seen;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = known === undefined ? await readMapping(this.#client, path) : known;
      known = undefined;
      try {
        if (current === null) {
          await this.#client.create(path, Buffer.from(app), CREATE_MODE.PERSISTENT, aclsFor(undefined), this.#mark);
          return 'created';
        }
        if (current.apps.includes(app)) return undefined;
        await this.#client.setData(path, Buffer.from([...current.apps, app].join(',')), current.version);
        return 'added';
      } catch (err) {
        const code = zkCode(err);
        if (code !== NODE_EXISTS && code !== BAD_VERSION && code !== NO_NODE) throw err;
      }
    }
    return undefined;
  }
}
