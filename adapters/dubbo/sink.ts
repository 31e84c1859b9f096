import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey, parseRef, refKey } from '../../bridge/model/index.ts';
import type { EndpointField, Sink } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { BAD_VERSION, CREATE_MODE, NODE_EXISTS, NO_NODE, aclsFor, zkCode, type ZkClient } from './client.ts';
import { dirMark, planExport, type ExportSettings, type WantedNode } from './encode.ts';
import { ownedInstance, ownedProvider, type OwnedNode } from './owned.ts';
import { CreationRecord, isEmptyDoc, recordPath, withApp, withMapping } from './record.ts';
import { retireDubbo } from './retire.ts';

const FIELDS: readonly EndpointField[] = ['weight', 'origin'];
const NOT_INTERFACES = new Set(['metadata', 'mapping', 'config']);

export interface DubboSinkOptions {
  readonly settings: ExportSettings;
  /** Where the sink records what it added to shared nodes (outside the Dubbo tree); default `/isthmus`. */
  readonly stateRoot?: string;
  readonly digest?: string;
  readonly logger?: EngineLogger;
}

interface Held extends OwnedNode {
  /** Ephemeral owner session (hex), '0000000000000000' for persistent nodes. */
  readonly owner: string;
}

/**
 * Model → ZooKeeper. Each ready endpoint becomes one provider URL per exported interface
 * (Dubbo 2.7 and Dubbo 3 interface-level consumers) and one `/services/<app>/<ip:port>` instance
 * (Dubbo 3 application-level consumers), plus the MetadataInfo under `<root>/metadata` and the
 * interface→application mapping so application-level consumers never need a MetadataService
 * on the pod. Only nodes carrying our `isthmus.managed-by` are changed or deleted.
 */
export class DubboSink implements Sink {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: ZkClient;
  readonly #o: DubboSinkOptions;
  readonly #resetListeners = new Set<() => void>();
  /** Directories where nodes of a ref may live (filled by the scan and by apply). */
  readonly #places = new Map<string, Set<string>>();
  #scanned: Promise<void> | undefined;
  /** Data of every directory we create: cleanup deletes only empty directories carrying it. */
  readonly #mark: Buffer;
  readonly #stateRoot: string;
  readonly #record: CreationRecord;

  constructor(id: RegistryId, client: ZkClient, options: DubboSinkOptions) {
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#mark = dirMark(options.settings);
    this.#stateRoot = options.stateRoot ?? '/isthmus';
    this.#record = new CreationRecord(client, recordPath(this.#stateRoot, options.settings), this.#mark, options.digest);
  }

  start(signal: AbortSignal): Promise<void> {
    const off = this.#client.onSession((generation) => {
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

  async observe(ref: ServiceRef): Promise<ServiceSnapshot | undefined> {
    const held = (await this.#held(ref)).filter((h) => this.#current(h));
    if (held.length === 0) return undefined;
    const endpoints = new Map<string, Endpoint>();
    for (const h of held) if (!endpoints.has(endpointKey(h.endpoint))) endpoints.set(endpointKey(h.endpoint), h.endpoint);
    const list = [...endpoints.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
    const ports = Object.entries(list[0]?.ports ?? {}).map(([name, port]) => ({ name, port }));
    return { ref, ports, endpoints: list, metadata: {}, origin: this.id };
  }

  async ownedRefs(): Promise<readonly ServiceRef[]> {
    this.#scanned = this.#scanOnce();
    await this.#scanned;
    const refs: ServiceRef[] = [];
    for (const key of this.#places.keys()) {
      const ref = parseRef(key);
      if (ref !== undefined && (await this.#held(ref)).length > 0) refs.push(ref);
    }
    return refs;
  }

  async apply(desired: ServiceSnapshot): Promise<void> {
    for (const n of planExport(desired, this.#o.settings).nodes) this.#place(desired.ref, parentOf(n.path));
    const held = await this.#held(desired.ref);
    const plan = planExport(desired, this.#o.settings, this.#client.sessionId);
    const wanted = new Map(plan.nodes.map((n) => [n.path, n]));
    const heldPaths = new Set(held.map((h) => h.path));
    const keep = new Set(held.filter((h) => this.#current(h) && wanted.get(h.path)?.data.equals(h.data) === true).map((h) => h.path));
    const acls = aclsFor(this.#o.digest);
    const mode = this.#o.settings.persistent ? CREATE_MODE.PERSISTENT : CREATE_MODE.EPHEMERAL;
    // Metadata and mapping first: an application-level consumer resolves an instance through them.
    // The application is recorded before its metadata is written (cleanup verifies the marker in
    // the metadata itself); a mapping change only after it succeeded (the mapping has no marker).
    if (plan.metadata !== undefined || plan.mappings.length > 0) await this.#record.update((d) => withApp(d, plan.application));
    if (plan.metadata !== undefined) await this.#ensure(plan.metadata);
    for (const m of plan.mappings) {
      const done = await this.#map(m, plan.application);
      if (done !== undefined) await this.#record.update((d) => withMapping(d, m, plan.application, done === 'created'));
    }
    // Create before delete, so a replaced provider URL never leaves consumers without the endpoint;
    // only a node at the very same path (an instance) must go first.
    for (const n of plan.nodes) {
      if (keep.has(n.path)) continue;
      if (heldPaths.has(n.path)) await this.#removeNode(n.path);
      try {
        await this.#client.create(n.path, n.data, mode, acls, this.#mark);
      } catch (err) {
        if (zkCode(err) !== NODE_EXISTS) throw err;
        // Same ip:port registered by a real provider or another bridge: never overwrite it.
        this.#o.logger?.warn({ registry: this.id, service: refKey(desired.ref), path: n.path }, 'dubbo node exists and is not ours; not exported');
      }
    }
    for (const h of held) if (!wanted.has(h.path)) await this.#removeNode(h.path);
  }

  async remove(ref: ServiceRef): Promise<void> {
    for (const h of await this.#held(ref)) await this.#removeNode(h.path);
  }

  /** Cleanup: takes back mapping entries, metadata and directories we created (see retire.ts). */
  async retire(): Promise<void> {
    const left = await retireDubbo(this.#client, { ...this.#o.settings, stateRoot: this.#stateRoot }, this.#record);
    if (!isEmptyDoc(left)) this.#o.logger?.warn({ registry: this.id, record: this.#record.path, left }, 'dubbo cleanup kept mapping entries or metadata still in use by a provider');
  }

  /** False for an ephemeral node of an older session of ours: it vanishes with that session, so it is rewritten. */
  #current(h: Held): boolean {
    if (this.#o.settings.persistent) return true;
    return h.owner === this.#client.sessionId;
  }

  async #removeNode(path: string): Promise<void> {
    try {
      await this.#client.remove(path);
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
    }
  }

  /** Creates a persistent, content-addressed node (MetadataInfo) once. */
  async #ensure(node: WantedNode): Promise<void> {
    if ((await this.#client.exists(node.path)) !== undefined) return;
    try {
      await this.#client.create(node.path, node.data, CREATE_MODE.PERSISTENT, aclsFor(undefined), this.#mark);
    } catch (err) {
      if (zkCode(err) !== NODE_EXISTS) throw err;
    }
  }

  /** Adds `app` to the comma list of a mapping node, compare-and-set on its version as Dubbo does; says what it did. */
  async #map(path: string, app: string): Promise<'created' | 'added' | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const { data, stat } = await this.#client.getData(path);
        const apps = (data?.toString('utf8') ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
        if (apps.includes(app)) return undefined;
        await this.#client.setData(path, Buffer.from([...apps, app].join(',')), stat.version);
        return 'added';
      } catch (err) {
        const code = zkCode(err);
        if (code === NO_NODE) {
          try {
            await this.#client.create(path, Buffer.from(app), CREATE_MODE.PERSISTENT, aclsFor(undefined), this.#mark);
            return 'created';
          } catch (e) {
            if (zkCode(e) !== NODE_EXISTS) throw e;
          }
        } else if (code !== BAD_VERSION) throw err;
      }
    }
    return undefined;
  }

  #place(ref: ServiceRef, dir: string): void {
    const key = refKey(ref);
    const dirs = this.#places.get(key) ?? new Set<string>();
    dirs.add(dir);
    this.#places.set(key, dirs);
  }

  /** What we own of `ref` now, read live from the directories it may occupy. */
  async #held(ref: ServiceRef): Promise<Held[]> {
    this.#scanned ??= this.#scanOnce();
    await this.#scanned;
    const key = refKey(ref);
    const out: Held[] = [];
    for (const dir of this.#places.get(key) ?? []) {
      for (const node of await this.#readDir(dir)) if (refKey(node.ref) === key) out.push(node);
    }
    return out;
  }

  async #readDir(dir: string): Promise<Held[]> {
    let children: string[];
    try {
      children = await this.#client.getChildren(dir);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return [];
      throw err;
    }
    const bridgeId = this.#o.settings.bridgeId;
    const isProviders = dir.endsWith('/providers') && dir.startsWith(`${this.#o.settings.root}/`);
    const nodes = await Promise.all(
      children.map(async (child): Promise<Held | undefined> => {
        const path = `${dir}/${child}`;
        try {
          if (isProviders) {
            const owned = ownedProvider(dir, child, bridgeId);
            if (owned === undefined) return undefined;
            const stat = await this.#client.exists(path);
            return stat === undefined ? undefined : { ...owned, owner: stat.ephemeralOwner.toString('hex') };
          }
          const { data, stat } = await this.#client.getData(path);
          const owned = ownedInstance(path, data, bridgeId);
          return owned === undefined ? undefined : { ...owned, owner: stat.ephemeralOwner.toString('hex') };
        } catch (err) {
          if (zkCode(err) === NO_NODE) return undefined;
          throw err;
        }
      }),
    );
    return nodes.filter((n) => n !== undefined);
  }

  /** A failed scan is forgotten, so the next call tries again. */
  #scanOnce(): Promise<void> {
    const scan = this.#scan().catch((err: unknown) => {
      if (this.#scanned === scan) this.#scanned = undefined;
      throw err;
    });
    return scan;
  }

  /** Finds every directory holding nodes we wrote (start and garbage collection). */
  async #scan(): Promise<void> {
    const { root, servicesRoot } = this.#o.settings;
    const dirs: string[] = [];
    for (const d of await this.#childrenOrEmpty(root)) if (!NOT_INTERFACES.has(d)) dirs.push(`${root}/${d}/providers`);
    for (const app of await this.#childrenOrEmpty(servicesRoot)) dirs.push(`${servicesRoot}/${app}`);
    for (const dir of dirs) for (const node of await this.#readDir(dir)) this.#place(node.ref, dir);
  }

  async #childrenOrEmpty(path: string): Promise<string[]> {
    try {
      return await this.#client.getChildren(path);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return [];
      throw err;
    }
  }
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
