import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { describeError } from '../../bridge/errors/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { SourceCache } from '../shared/source-cache.ts';
import { NO_NODE, zkCode, type ZkClient, type ZkEvent } from './client.ts';
import { instanceSnapshot, providerSnapshots, type ImportSettings } from './convert.ts';
import { PathWatchers } from './path-watchers.ts';
import { javaUrlDecode } from './url.ts';

export interface DubboSourceOptions {
  readonly settings: ImportSettings;
  readonly root: string;
  readonly servicesRoot: string;
  readonly levels: readonly ('interface' | 'application')[];
  readonly maxBackoffMs?: number;
  readonly logger?: EngineLogger;
}

/** Children of the interface root that are not interfaces. */
const NOT_INTERFACES = new Set(['metadata', 'mapping', 'config']);

/**
 * Health channels: the client's connection, and our reads over it. Both must be fine; reads
 * recover only by a full relist, which is what makes the cache trustworthy again.
 */
const CONNECTION = 'connection';
const READS = '';

/**
 * ZooKeeper → model. Watches fire once, so every read re-arms its path's watch; a fire runs the
 * handler of the path's latest read, once, and a relist drops every handler before it re-arms
 * (so an old session's fire, or a relist's predecessor's, does nothing). Every new
 * or resumed session relists everything; the cache is replaced per directory only by successful
 * reads, so a lost connection or an expired session freezes what was last seen.
 */
export class DubboSource implements Source {
  readonly id: RegistryId;
  readonly #client: ZkClient;
  readonly #o: DubboSourceOptions;
  /** Parts: `i:<dir>` per interface directory, `a:<app>` per application. */
  readonly #cache: SourceCache;
  /** Per path: what its next watch event runs (the latest read's reload). */
  readonly #handlers = new Map<string, (e: ZkEvent) => void>();
  /** Per path: the one watcher function ZooKeeper holds for it (path-watchers.ts). */
  readonly #watchers = new PathWatchers((path, e) => {
    const handler = this.#handlers.get(path);
    if (handler === undefined || this.#stopped) return;
    this.#handlers.delete(path);
    handler(e);
  });
  readonly #instances = new Map<string, Map<string, Buffer | undefined>>();
  /** Interface (decoded) → applications, as the mapping nodes say, and the reverse. */
  readonly #mapping = new Map<string, string[]>();
  readonly #ifacesByApp = new Map<string, Set<string>>();
  #session = 0;
  #relisting: Promise<void> | undefined;
  #again = false;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;

  constructor(id: RegistryId, client: ZkClient, options: DubboSourceOptions) {
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#cache = new SourceCache(id);
    if (!client.connected) this.#cache.lost('zookeeper not connected', CONNECTION);
  }

  start(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    const offSession = this.#client.onSession((generation) => {
      if (generation !== this.#session) this.#watchers.reset();
      this.#session = generation;
      this.#relist();
    });
    const offState = this.#client.onState((up) => {
      if (up) {
        // Normally the reads are still down and the relist that follows nudges; this covers a
        // relist that finished while the connection was already gone.
        if (this.#cache.contact(CONNECTION) && this.#cache.hasSynced()) this.#cache.nudgeAll();
        return;
      }
      this.#cache.lost('zookeeper not connected', CONNECTION);
      this.#fail(new Error('zookeeper connection lost'));
    });
    signal.addEventListener('abort', () => { offSession(); offState(); clearTimeout(this.#retry); }, { once: true });
    this.#client.start();
    if (this.#client.connected) {
      this.#cache.contact(CONNECTION);
      this.#relist();
    } else {
      this.#cache.lost('zookeeper not connected', CONNECTION);
    }
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return this.#cache.hasSynced();
  }

  health(): SourceHealth {
    return this.#cache.health();
  }

  keys(): Iterable<ServiceRef> {
    return this.#cache.keys();
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#cache.get(ref);
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    return this.#cache.onChange(listener);
  }

  quarantined(): readonly QuarantinedRecord[] {
    return this.#cache.quarantined();
  }

  get #stopped(): boolean {
    return this.#signal?.aborted ?? true;
  }

  /** Relists everything, one relist at a time; a request during one runs another after it. */
  #relist(): void {
    if (this.#stopped) return;
    if (this.#relisting !== undefined) {
      this.#again = true;
      return;
    }
    this.#relisting = this.#relistAll()
      .then(() => {
        const recovered = this.#cache.contact(READS);
        this.#failures = 0;
        if (!this.#cache.hasSynced()) {
          this.#cache.markSynced();
          this.#o.logger?.info({ registry: this.id, services: this.#cache.size }, 'dubbo source synced');
        } else if (recovered) {
          this.#cache.nudgeAll();
        }
      })
      .catch((err: unknown) => { this.#fail(err); })
      .finally(() => {
        this.#relisting = undefined;
        if (this.#again) {
          this.#again = false;
          this.#relist();
        }
      });
  }

  async #relistAll(): Promise<void> {
    // Every handler armed before is superseded: this relist re-arms one per node.
    this.#handlers.clear();
    const jobs: Promise<void>[] = [];
    if (this.#o.levels.includes('interface')) jobs.push(this.#loadRoot());
    if (this.#o.levels.includes('application')) jobs.push(this.#loadMapping().then(() => this.#loadApps()));
    await Promise.all(jobs);
  }

  #fail(err: unknown): void {
    const message = describeError(err);
    if (this.#cache.lost(message, READS)) this.#o.logger?.warn({ registry: this.id, err: message }, 'zookeeper read failed; cache frozen, nothing deleted, retrying');
    this.#failures++;
    clearTimeout(this.#retry);
    if (this.#stopped) return;
    const delay = Math.min(250 * 2 ** Math.min(this.#failures, 8), this.#o.maxBackoffMs ?? 10_000);
    this.#retry = setTimeout(() => { if (this.#client.connected) this.#relist(); }, delay);
  }

  /** The watcher for a read of `path`, whose next event runs `onFire` (and no earlier read's). */
  #arm(path: string, onFire: (e: ZkEvent) => void): (e: ZkEvent) => void {
    this.#handlers.set(path, onFire);
    return this.#watchers.for(path);
  }

  /** Runs a watch-triggered reload; a failure freezes and schedules a relist. */
  #react(job: Promise<void>): void {
    job.catch((err: unknown) => { this.#fail(err); });
  }

  /** Children of `path` with a watch, or undefined (and an exists-watch) when it does not exist. */
  async #children(path: string, onChange: () => void): Promise<string[] | undefined> {
    try {
      return await this.#client.getChildren(path, this.#arm(path, onChange));
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
      const stat = await this.#client.exists(path, this.#arm(path, onChange));
      // Created between the two calls: read it now.
      return stat === undefined ? undefined : this.#client.getChildren(path, this.#arm(path, onChange));
    }
  }

  async #loadRoot(): Promise<void> {
    const root = this.#o.root;
    const dirs = (await this.#children(root, () => { this.#react(this.#loadRoot()); })) ?? [];
    const wanted = new Set(dirs.filter((d) => !NOT_INTERFACES.has(d)));
    for (const part of this.#cache.parts('i:')) {
      const dir = part.slice(2);
      if (wanted.has(dir)) continue;
      this.#handlers.delete(`${root}/${dir}/providers`);
      this.#cache.drop(part);
    }
    const fresh = [...wanted].filter((d) => !this.#handlers.has(`${root}/${d}/providers`));
    await Promise.all(fresh.map((d) => this.#loadProviders(d)));
  }

  async #loadProviders(dir: string): Promise<void> {
    const path = `${this.#o.root}/${dir}/providers`;
    const children = (await this.#children(path, () => { this.#react(this.#loadProviders(dir)); })) ?? [];
    this.#cache.replace(`i:${dir}`, providerSnapshots(dir, children, this.#o.settings));
  }

  /** Reads the mapping directory; returns the applications whose interface list changed. */
  async #loadMapping(): Promise<Set<string>> {
    const base = `${this.#o.root}/mapping`;
    const ifaces = (await this.#children(base, () => { this.#react(this.#loadMapping().then((apps) => { this.#recomputeApps(apps); })); })) ?? [];
    const listed = new Set(ifaces.map(ifaceName));
    const affected = new Set<string>();
    for (const name of [...this.#mapping.keys()]) if (!listed.has(name)) for (const app of this.#setMapping(name, undefined)) affected.add(app);
    const loaded = await Promise.all(ifaces.filter((i) => !this.#handlers.has(`${base}/${i}`)).map((iface) => this.#loadMappingNode(iface)));
    for (const apps of loaded) for (const app of apps) affected.add(app);
    return affected;
  }

  /** Reads one mapping node; returns the applications whose interface list it changed. */
  async #loadMappingNode(iface: string): Promise<Set<string>> {
    const path = `${this.#o.root}/mapping/${iface}`;
    try {
      const { data } = await this.#client.getData(path, this.#arm(path, () => { this.#react(this.#loadMappingNode(iface).then((apps) => { this.#recomputeApps(apps); })); }));
      const apps = (data?.toString('utf8') ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
      return this.#setMapping(ifaceName(iface), apps);
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
      return this.#setMapping(ifaceName(iface), undefined);
    }
  }

  /**
   * Records an interface's applications (undefined: no mapping node) and returns the apps that
   * gained or lost it. Only those are converted again: at a thousand exported services every
   * mapping write used to re-convert every application (quadratic; most of the bridge's CPU).
   */
  #setMapping(iface: string, apps: readonly string[] | undefined): Set<string> {
    const before = new Set(this.#mapping.get(iface) ?? []);
    const after = new Set(apps ?? []);
    if (apps === undefined) this.#mapping.delete(iface);
    else this.#mapping.set(iface, [...after]);
    const changed = new Set<string>();
    for (const app of before) {
      if (after.has(app)) continue;
      changed.add(app);
      this.#ifacesByApp.get(app)?.delete(iface);
    }
    for (const app of after) {
      if (before.has(app)) continue;
      changed.add(app);
      const set = this.#ifacesByApp.get(app) ?? new Set<string>();
      set.add(iface);
      this.#ifacesByApp.set(app, set);
    }
    return changed;
  }

  #interfacesOf(app: string): string[] {
    return [...(this.#ifacesByApp.get(app) ?? [])];
  }

  #recomputeApps(apps: Iterable<string>): void {
    for (const app of apps) {
      const nodes = this.#instances.get(app);
      if (nodes !== undefined) this.#cache.replace(`a:${app}`, instanceSnapshot(app, nodes, this.#interfacesOf(app), this.#o.settings));
    }
  }

  async #loadApps(): Promise<void> {
    const root = this.#o.servicesRoot;
    const apps = new Set((await this.#children(root, () => { this.#react(this.#loadApps()); })) ?? []);
    for (const app of [...this.#instances.keys()]) {
      if (apps.has(app)) continue;
      this.#instances.delete(app);
      this.#handlers.delete(`${root}/${app}`);
      this.#cache.drop(`a:${app}`);
    }
    await Promise.all([...apps].filter((a) => !this.#handlers.has(`${root}/${a}`)).map((a) => this.#loadApp(a)));
  }

  async #loadApp(app: string): Promise<void> {
    const dir = `${this.#o.servicesRoot}/${app}`;
    const children = (await this.#children(dir, () => { this.#react(this.#loadApp(app)); })) ?? [];
    const old = this.#instances.get(app) ?? new Map<string, Buffer | undefined>();
    const nodes = new Map<string, Buffer | undefined>();
    await Promise.all(
      children.map(async (child) => {
        const path = `${dir}/${child}`;
        // A child still watched keeps its data; its own watch reports changes.
        if (old.has(child) && this.#handlers.has(path)) nodes.set(child, old.get(child));
        else {
          const data = await this.#instanceData(app, child);
          if (data !== null) nodes.set(child, data);
        }
      }),
    );
    this.#instances.set(app, nodes);
    this.#cache.replace(`a:${app}`, instanceSnapshot(app, nodes, this.#interfacesOf(app), this.#o.settings));
  }

  /** An instance's data with a data watch; null when it vanished meanwhile. */
  async #instanceData(app: string, child: string): Promise<Buffer | undefined | null> {
    const path = `${this.#o.servicesRoot}/${app}/${child}`;
    try {
      const { data } = await this.#client.getData(path, this.#arm(path, () => { this.#react(this.#reloadInstance(app, child)); }));
      return data;
    } catch (err) {
      if (zkCode(err) === NO_NODE) return null;
      throw err;
    }
  }

  async #reloadInstance(app: string, child: string): Promise<void> {
    const data = await this.#instanceData(app, child);
    const nodes = this.#instances.get(app);
    if (nodes === undefined) return;
    if (data === null) nodes.delete(child);
    else nodes.set(child, data);
    this.#cache.replace(`a:${app}`, instanceSnapshot(app, nodes, this.#interfacesOf(app), this.#o.settings));
  }
}

/** A mapping node's name is the URL-encoded interface. */
function ifaceName(node: string): string {
  return javaUrlDecode(node) ?? node;
}
