import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { SourceCache } from '../shared/source-cache.ts';
import type { ConsulClient } from './client.ts';
import { serviceNameProblem, toSnapshots, wantsService, type ImportSettings } from './convert.ts';
import type { HealthEntry, ServiceList } from './native.ts';
import { runWatch } from './watch.ts';

export interface ConsulSourceOptions {
  readonly settings: ImportSettings;
  readonly waitSeconds: number;
  readonly minWatchIntervalMs: number;
  readonly maxBackoffMs: number;
  readonly logger?: EngineLogger;
}

interface ServiceWatch {
  readonly abort: AbortController;
  synced: boolean;
}

/** Cache part of the selected names the model refuses; watched services use their own name. */
const REFUSED = '';

/**
 * Consul → model. One blocking query on /v1/catalog/services finds the selected names; each
 * selected service then gets its own blocking query on /v1/health/service/:name, so a route that
 * selects three services costs three watches, not one per service in the datacenter. The cache
 * is replaced only by successful reads, so an outage freezes it.
 */
export class ConsulSource implements Source {
  readonly id: RegistryId;
  readonly #client: ConsulClient;
  readonly #o: ConsulSourceOptions;
  /** Health channels are watch keys: '' is the service list, a name that service's watch. */
  readonly #cache: SourceCache;
  readonly #watches = new Map<string, ServiceWatch>();
  #listed = false;
  #signal: AbortSignal | undefined;

  constructor(id: RegistryId, client: ConsulClient, options: ConsulSourceOptions) {
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#cache = new SourceCache(id);
  }

  start(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    void runWatch<ServiceList | null>({
      ...this.#watchTiming(signal),
      path: '/v1/catalog/services',
      onData: (list, _index, reset) => {
        if (reset) this.#o.logger?.warn({ registry: this.id }, 'consul index went backwards (server restarted or replaced): relisted');
        this.#contact('');
        this.#onList(list);
      },
      onError: (err, failures) => { this.#fail('', err, failures); },
    });
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

  /** Names currently watched (tests: proves only selected services are watched). */
  watchedServices(): string[] {
    return [...this.#watches.keys()].sort();
  }

  #watchTiming(signal: AbortSignal): Pick<Parameters<typeof runWatch>[0], 'client' | 'waitSeconds' | 'minIntervalMs' | 'maxBackoffMs' | 'signal'> {
    return { client: this.#client, waitSeconds: this.#o.waitSeconds, minIntervalMs: this.#o.minWatchIntervalMs, maxBackoffMs: this.#o.maxBackoffMs, signal };
  }

  #onList(list: ServiceList | null): void {
    const selected = Object.entries(list ?? {}).filter(([name, tags]) => wantsService(name, Array.isArray(tags) ? tags : null, this.#o.settings)).map(([name]) => name);
    const refused = selected.flatMap((name) => {
      const reason = serviceNameProblem(name, this.#o.settings);
      return reason === undefined ? [] : [{ nativeId: name, reason }];
    });
    for (const q of this.#cache.replace(REFUSED, { snapshots: [], quarantined: refused })) {
      this.#o.logger?.warn({ registry: this.id, service: q.nativeId.slice(0, 80), reason: q.reason }, 'consul service quarantined: its name cannot be a model name');
    }
    const out = new Set(refused.map((q) => q.nativeId));
    const wanted = new Set(selected.filter((name) => !out.has(name)));
    for (const [name, w] of this.#watches) {
      if (wanted.has(name)) continue;
      // Gone from the catalog: a real deletion, seen on a successful read, so it is propagated.
      w.abort.abort();
      this.#watches.delete(name);
      this.#cache.drop(name);
      // A watch that is no more cannot keep the source unreachable.
      this.#contact(name);
    }
    for (const name of wanted) if (!this.#watches.has(name)) this.#watchService(name);
    this.#listed = true;
    this.#checkSynced();
  }

  #watchService(name: string): void {
    const parent = this.#signal;
    if (parent === undefined) return;
    const abort = new AbortController();
    const stop = (): void => { abort.abort(); };
    parent.addEventListener('abort', stop, { once: true });
    const w: ServiceWatch = { abort, synced: false };
    this.#watches.set(name, w);
    void runWatch<HealthEntry[] | null>({
      ...this.#watchTiming(abort.signal),
      path: `/v1/health/service/${encodeURIComponent(name)}`,
      onData: (entries, index) => {
        if (this.#watches.get(name) !== w) return;
        this.#contact(name);
        this.#cache.replace(name, toSnapshots(name, entries ?? [], this.#o.settings, String(index)));
        w.synced = true;
        this.#checkSynced();
      },
      onError: (err, failures) => { this.#fail(name, err, failures); },
    }).finally(() => { parent.removeEventListener('abort', stop); });
  }

  #checkSynced(): void {
    if (this.#cache.hasSynced() || !this.#listed) return;
    if ([...this.#watches.values()].every((w) => w.synced)) {
      this.#cache.markSynced();
      this.#o.logger?.info({ registry: this.id, services: this.#watches.size }, 'consul source synced');
    }
  }

  #contact(key: string): void {
    if (this.#cache.contact(key)) {
      this.#o.logger?.info({ registry: this.id }, 'consul reachable again');
      this.#cache.nudgeAll();
    }
  }

  #fail(key: string, err: unknown, failures: number): void {
    const message = describeError(err);
    this.#cache.lost(message, key);
    // One line per outage per watch, then every 10th retry: an outage must not flood the logs.
    if (failures === 1 || failures % 10 === 0) {
      const auth = err instanceof BridgeError && err.code === 'ISTHMUS_REGISTRY_AUTH';
      const fields = { registry: this.id, watch: key === '' ? 'catalog/services' : `health/service/${key}`, err: message, failures };
      if (auth) this.#o.logger?.error(fields, 'consul refused our ACL token; cache frozen, nothing deleted, retrying');
      else this.#o.logger?.warn(fields, 'consul watch failed; cache frozen, retrying');
    }
  }
}
