import type { RegistryId, ServiceRef } from '../../bridge/model/index.ts';
import { parseRef, refKey } from '../../bridge/model/index.ts';
import { NO_NODE, zkCode, type ZkClient } from './client.ts';
import type { ExportSettings } from './encode.ts';
import { segmentProblem } from './names.ts';
import { DirCache } from './dir-cache.ts';
import { ownedInstance, ownedProvider } from './owned.ts';
import { observedOf, type DubboState, type Held, type MappingRead } from './plan.ts';
import { javaUrlDecode } from './url.ts';

const NOT_INTERFACES = new Set(['metadata', 'mapping', 'config']);

/** The applications listed in a mapping node's data (a bare comma list). */
export function mappingApps(data: Buffer | undefined): string[] {
  return (data?.toString('utf8') ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
}

export async function readMapping(client: ZkClient, path: string): Promise<MappingRead> {
  try {
    const { data, stat } = await client.getData(path);
    return { apps: mappingApps(data), version: stat.version };
  } catch (err) {
    if (zkCode(err) === NO_NODE) return null;
    throw err;
  }
}

async function childrenOrEmpty(client: ZkClient, path: string): Promise<string[]> {
  try {
    return await client.getChildren(path);
  } catch (err) {
    if (zkCode(err) === NO_NODE) return [];
    throw err;
  }
}

/**
 * The sink's read side. Our nodes carry the ref in a marker but live under paths named after
 * the Dubbo interface and application, so the directories ("places") a ref has nodes in are
 * remembered: found by a scan of the whole tree (first read, and every `ownedRefs`, i.e. start
 * and resync), and added by `execute` for every directory a plan writes into, before it writes.
 * A ref's nodes can only be where this bridge wrote them, so reading its places finds them all;
 * `read` needs no desired snapshot, and a directory a new plan wants is read from the next pass
 * on (until then it holds nothing of that ref).
 */
export class DubboReader {
  readonly #client: ZkClient;
  readonly #s: ExportSettings;
  readonly #registry: RegistryId;
  readonly #places = new Map<string, Set<string>>();
  readonly #cache = new DirCache<Held>();
  /** Directories whose last read found them: a create elsewhere checks its parents first. */
  readonly #listed = new Set<string>();
  #scanned: Promise<void> | undefined;

  constructor(client: ZkClient, settings: ExportSettings, registry: RegistryId) {
    this.#client = client;
    this.#s = settings;
    this.#registry = registry;
  }

  place(ref: ServiceRef, dirs: Iterable<string>): void {
    const key = refKey(ref);
    const known = this.#places.get(key) ?? new Set<string>();
    for (const d of dirs) known.add(d);
    this.#places.set(key, known);
  }

  /**
   * One read of `ref`: our nodes in its places, every other child there (paths taken by others),
   * the mapping nodes of its interfaces and the MetadataInfo nodes of its applications.
   */
  async read(ref: ServiceRef): Promise<DubboState> {
    await this.#ensureScanned();
    await this.#client.ready();
    const key = refKey(ref);
    const dirs = [...(this.#places.get(key) ?? [])];
    const listed = await Promise.all(dirs.map((d) => this.#readDir(d)));
    const held = listed.flatMap((l) => l.nodes).filter((n) => refKey(n.ref) === key);
    const present = new Set(listed.flatMap((l) => l.children));
    const { root, servicesRoot } = this.#s;
    const ifaces = new Set<string>();
    const apps = new Set<string>();
    for (const d of dirs) {
      if (d.startsWith(`${servicesRoot}/`)) apps.add(d.slice(servicesRoot.length + 1));
      else if (d.startsWith(`${root}/`) && d.endsWith('/providers')) ifaces.add(javaUrlDecode(d.slice(root.length + 1, -'/providers'.length)) ?? '');
    }
    for (const h of held) if (h.application !== undefined) apps.add(h.application);
    const usable = (what: string, names: Set<string>): string[] => [...names].filter((n) => segmentProblem(what, n) === undefined);
    const mappingPaths = usable('interface', ifaces).map((i) => `${root}/mapping/${i}`);
    const [mappingReads, revisions] = await Promise.all([
      Promise.all(mappingPaths.map(async (p) => [p, await readMapping(this.#client, p)] as const)),
      Promise.all(usable('application', apps).map(async (a) => (await childrenOrEmpty(this.#client, `${root}/metadata/${a}`)).map((rev) => `${root}/metadata/${a}/${rev}`))),
    ]);
    const session = this.#client.sessionId;
    return {
      ref,
      observed: observedOf(ref, held, session, this.#s, this.#registry),
      held,
      session,
      present,
      mappings: new Map(mappingReads),
      metadata: new Set(revisions.flat()),
    };
  }

  /** Forgets every cached read: ZooKeeper's watches may not have survived (session events). */
  forget(newSession: boolean): void {
    if (newSession) this.#cache.newSession();
    else this.#cache.clear();
    this.#listed.clear();
  }

  /**
   * True when the last read of `dir` found it. A hint for the first create in a directory: one
   * never read (a new service) or read as missing gets its parents checked first rather than a
   * create that fails, since ZooKeeper counts the failed attempt as a write.
   */
  listed(dir: string): boolean {
    return this.#listed.has(dir);
  }

  /** Every ref with a node of ours anywhere, from a fresh scan (resync garbage collection). */
  async ownedRefs(): Promise<ServiceRef[]> {
    // A resync reads everything again, so nothing rests on the cache alone for long.
    this.#cache.clear();
    this.#scanned = this.#scanOnce();
    await this.#scanned;
    const refs: ServiceRef[] = [];
    for (const [key, dirs] of this.#places) {
      const ref = parseRef(key);
      if (ref === undefined) continue;
      const listed = await Promise.all([...dirs].map((d) => this.#readDir(d)));
      if (listed.some((l) => l.nodes.some((n) => refKey(n.ref) === key))) refs.push(ref);
    }
    return refs;
  }

  async #ensureScanned(): Promise<void> {
    this.#scanned ??= this.#scanOnce();
    await this.#scanned;
  }

  /**
   * Our nodes in `dir` (any ref) and the paths of all its children. Only what ZooKeeper's
   * watches say changed since the last read is read again (dir-cache.ts).
   */
  async #readDir(dir: string): Promise<{ nodes: Held[]; children: string[] }> {
    let children = this.#cache.children(dir);
    if (children === undefined) {
      const { watcher, store } = this.#cache.watchChildren(dir);
      try {
        children = await this.#client.getChildren(dir, watcher);
        this.#listed.add(dir);
        store(children);
      } catch (err) {
        // No watch is left on a missing directory: it is read again next time.
        if (zkCode(err) !== NO_NODE) throw err;
        this.#listed.delete(dir);
        store(undefined);
        children = [];
      }
    }
    const nodes = await Promise.all(children.map((child) => this.#readChild(dir, child)));
    return { nodes: nodes.filter((n) => n !== undefined), children: children.map((c) => `${dir}/${c}`) };
  }

  async #readChild(dir: string, child: string): Promise<Held | undefined> {
    const cached = this.#cache.node(dir, child);
    if (cached !== undefined) return cached.value;
    const path = `${dir}/${child}`;
    const bridgeId = this.#s.bridgeId;
    const { watcher, store } = this.#cache.watchNode(dir, child);
    try {
      if (dir.endsWith('/providers') && dir.startsWith(`${this.#s.root}/`)) {
        // A provider node's name says everything; only its owner session needs a request.
        const owned = ownedProvider(dir, child, bridgeId);
        if (owned === undefined) {
          store(undefined, true);
          return undefined;
        }
        const stat = await this.#client.exists(path, watcher);
        const held = stat === undefined ? undefined : { ...owned, owner: stat.ephemeralOwner.toString('hex'), version: stat.version };
        store(held, stat !== undefined);
        return held;
      }
      const { data, stat } = await this.#client.getData(path, watcher);
      const owned = ownedInstance(path, data, bridgeId);
      const held = owned === undefined ? undefined : { ...owned, owner: stat.ephemeralOwner.toString('hex'), version: stat.version };
      store(held, true);
      return held;
    } catch (err) {
      store(undefined, false);
      if (zkCode(err) === NO_NODE) return undefined;
      throw err;
    }
  }

  /** A failed scan is forgotten, so the next call tries again. */
  #scanOnce(): Promise<void> {
    const scan = this.#scan().catch((err: unknown) => {
      if (this.#scanned === scan) this.#scanned = undefined;
      throw err;
    });
    return scan;
  }

  /** Finds every directory holding nodes we wrote. */
  async #scan(): Promise<void> {
    const { root, servicesRoot } = this.#s;
    const dirs: string[] = [];
    for (const d of await childrenOrEmpty(this.#client, root)) if (!NOT_INTERFACES.has(d)) dirs.push(`${root}/${d}/providers`);
    for (const app of await childrenOrEmpty(this.#client, servicesRoot)) dirs.push(`${servicesRoot}/${app}`);
    for (const dir of dirs) for (const node of (await this.#readDir(dir)).nodes) this.place(node.ref, [dir]);
  }
}
