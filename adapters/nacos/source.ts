import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { PollLoop } from '../shared/poll-loop.ts';
import { SourceCache, type Refusal } from '../shared/source-cache.ts';
import type { NacosNamingClient } from './client.ts';
import type { DisabledLookup } from './disabled.ts';
import { serviceProblem, toSnapshots, wantsService, type ImportSettings } from './convert.ts';
import { refOfName } from './naming.ts';
import { DEFAULT_CLUSTER, groupedName, nameOfInfo, type NacosInstance, type NacosName, type ServiceInfo } from './native.ts';

export interface NacosSourceOptions {
  readonly settings: ImportSettings;
  /** Finds the disabled instances a push leaves out (see disabled.ts); absent: they just leave. */
  readonly disabled?: DisabledLookup;
  readonly pageSize: number;
  readonly relistIntervalMs: number;
  readonly logger?: EngineLogger;
}

interface Watched {
  readonly name: NacosName;
  synced: boolean;
  /** ip#port#cluster of every instance in the last view, disabled ones included. */
  seen: ReadonlySet<string>;
  /** Bumped per answer or push, so a slower earlier update never overwrites a newer one. */
  seq: number;
}

/** Cache part of the selected names the model refuses; subscribed services use `group@@name`. */
const REFUSED = '';

/** Subscriptions sent at once after a (re)connect: enough to be quick, few enough not to flood the server. */
const SUBSCRIBE_CONCURRENCY = 16;

/**
 * Nacos → model. The service list of each configured group is read page by page (Nacos pushes
 * instance changes, not the list, so it is polled every relistIntervalMs); each selected service
 * is subscribed on our gRPC connection, and the server pushes its full instance list on every
 * change (NotifySubscriberRequest). Nothing is polled per service. The cache changes only on a
 * successful list or a push, so a lost connection freezes it; a reconnect re-subscribes all.
 */
export class NacosSource implements Source {
  readonly id: RegistryId;
  readonly #client: NacosNamingClient;
  readonly #o: NacosSourceOptions;
  readonly #cache: SourceCache;
  readonly #watched = new Map<string, Watched>();
  readonly #loop: PollLoop;
  #listed = false;

  constructor(id: RegistryId, client: NacosNamingClient, options: NacosSourceOptions) {
    this.id = id;
    this.#client = client;
    this.#o = options;
    // Unreachable until the first list answers: the connection may not even be up yet.
    this.#cache = new SourceCache(id, { pending: [''] });
    const loop = { registry: id, kind: 'nacos', what: 'list', intervalMs: options.relistIntervalMs, cache: this.#cache, logger: options.logger };
    this.#loop = new PollLoop(loop, () => this.#listOnce());
  }

  start(signal: AbortSignal): Promise<void> {
    const conn = this.#client.connection;
    conn.onPush('NotifySubscriberRequest', (body) => { this.#onPush(body); });
    conn.onConnected(() => {
      // Subscriptions belong to the connection: a new one knows none of them.
      for (const w of this.#watched.values()) w.synced = false;
      this.#loop.wake();
    });
    conn.onDisconnected((reason) => { this.#cache.lost(reason); });
    conn.start(signal);
    void this.#loop.run(signal);
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

  /** How many selected services have their subscription answered on the current connection. */
  subscribedCount(): number {
    return [...this.#watched.values()].filter((w) => w.synced).length;
  }

  /** Grouped names currently subscribed (tests: proves only selected services are watched). */
  watchedServices(): string[] {
    return [...this.#watched.keys()].sort();
  }

  async #listOnce(): Promise<void> {
    const wanted = new Map<string, NacosName>();
    const refused: Refusal[] = [];
    for (const group of this.#o.settings.groups) {
      for (const service of await this.#client.listServices(group, this.#o.pageSize)) {
        const name = { group, service };
        if (!wantsService(name, this.#o.settings)) continue;
        const key = groupedName(name);
        const problem = serviceProblem(name, this.#o.settings);
        if (problem === undefined) wanted.set(key, name);
        else refused.push({ nativeId: key, ref: refOfName(name, this.#o.settings.defaultGroup, this.#o.settings.namespace), reason: problem });
      }
    }
    for (const q of this.#cache.replace(REFUSED, { snapshots: [], quarantined: refused })) {
      this.#o.logger?.warn({ registry: this.id, service: q.nativeId, reason: q.reason }, 'nacos service quarantined: its name cannot be carried');
    }
    for (const [key, w] of this.#watched) {
      if (wanted.has(key)) continue;
      // Gone from a successful list: a real deletion, so it is propagated.
      this.#watched.delete(key);
      this.#cache.drop(key);
      void this.#client.unsubscribe(w.name).catch(() => undefined);
    }
    const todo: Watched[] = [];
    for (const [key, name] of wanted) {
      let w = this.#watched.get(key);
      if (w === undefined) {
        w = { name, synced: false, seen: new Set(), seq: 0 };
        this.#watched.set(key, w);
      }
      if (!w.synced) todo.push(w);
    }
    await runLimited(todo, SUBSCRIBE_CONCURRENCY, async (w) => {
      await this.#update(w, await this.#client.subscribe(w.name));
    });
    this.#listed = true;
    this.#loop.contact();
    this.#checkSynced();
  }

  #onPush(body: Record<string, unknown>): void {
    const info = body['serviceInfo'] as ServiceInfo | undefined;
    if (info === undefined) return;
    const fallback = { group: typeof body['groupName'] === 'string' ? body['groupName'] : '', service: typeof body['serviceName'] === 'string' ? body['serviceName'] : '' };
    const name = nameOfInfo(info, fallback);
    const w = this.#watched.get(groupedName(name));
    if (w === undefined) return;
    void this.#update(w, info);
  }

  /**
   * A subscription answer or push. If it lacks an instance the last view had, the instance may
   * have been disabled rather than removed (Nacos hides disabled ones): ask, and keep those as
   * draining. Never throws.
   */
  async #update(w: Watched, info: ServiceInfo): Promise<void> {
    const seq = ++w.seq;
    let hosts: readonly NacosInstance[] = Array.isArray(info.hosts) ? info.hosts : [];
    const lookup = this.#o.disabled;
    const present = new Set(hosts.map(hostKey));
    if (lookup?.available === true && [...w.seen].some((k) => !present.has(k))) {
      const disabled = (await lookup.disabled(w.name)).filter((i) => w.seen.has(hostKey(i)) && !present.has(hostKey(i)));
      if (disabled.length > 0) hosts = [...hosts, ...disabled];
    }
    if (w.seq !== seq || this.#watched.get(groupedName(w.name)) !== w) return;
    w.seen = new Set(hosts.map(hostKey));
    this.#apply(w, { ...info, hosts });
  }

  #apply(w: Watched, info: ServiceInfo): void {
    const result = toSnapshots(w.name, info, this.#o.settings, info.lastRefTime === undefined ? undefined : String(info.lastRefTime));
    this.#cache.replace(groupedName(w.name), result);
    w.synced = true;
  }

  #checkSynced(): void {
    if (this.#cache.hasSynced() || !this.#listed) return;
    if ([...this.#watched.values()].every((w) => w.synced)) {
      this.#cache.markSynced();
      this.#o.logger?.info({ registry: this.id, services: this.#watched.size }, 'nacos source synced');
    }
  }
}

function hostKey(i: NacosInstance): string {
  return `${i.ip}#${i.port}#${i.clusterName ?? DEFAULT_CLUSTER}`;
}

async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

