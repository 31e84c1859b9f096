import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { SourceCache } from '../shared/source-cache.ts';
import type { ConsulClient } from './client.ts';
import { serviceNameProblem, toSnapshots, wantsService, type ImportSettings } from './convert.ts';
import { IndexedReader, NOT_ISTHMUS_CATALOG, NOT_ISTHMUS_HEALTH } from './indexed.ts';
import type { HealthEntry, ServiceList } from './native.ts';
import { runWatch } from './watch.ts';

export interface ConsulSourceOptions {
  readonly settings: ImportSettings;
  readonly waitSeconds: number;
  readonly minWatchIntervalMs: number;
  readonly maxBackoffMs: number;
  readonly logger?: EngineLogger;
  /** Per-service blocking queries at most; beyond, the index-driven mode (default 32). */
  readonly maxServiceWatches?: number;
  /** Service reads in flight at most in the index-driven mode (default 8). */
  readonly readConcurrency?: number;
  /** Index-driven mode: a full re-read when the catalog moved unexplained and we wrote meanwhile, at most this often (default 30 s). */
  readonly sweepMs?: number;
  /** Index-driven mode: the same when only others wrote, at most this often (default 1 s, see indexed.ts `sweep`). */
  readonly minSweepGapMs?: number;
  /** Index-driven mode: nodes whose catalog listing is watched, most-used first (default 4, see node-watch.ts). */
  readonly nodeWatches?: number;
}

const MAX_SERVICE_WATCHES = 32;
const READ_CONCURRENCY = 8;
const SWEEP_MS = 30_000;
const MIN_SWEEP_GAP_MS = 1_000;
const NODE_WATCHES = 4;
/** Cache health channel of the index-driven mode's check watch (no service name has a `/`). */
const CHECKS = '/checks';

interface ServiceWatch {
  readonly abort: AbortController;
}

/** Cache part of the selected names the model refuses; watched services use their own name. */
const REFUSED = '';

/**
 * Consul → model, within one connection budget whatever the size of the catalog. One blocking
 * query on /v1/catalog/services, filtered server-side so services only Isthmus wrote (our own
 * exports among them) never show up, finds the selected names. Up to `maxServiceWatches` of them
 * get a blocking query each on /v1/health/service/:name (exact and immediate); beyond that the
 * source switches to the index-driven mode (indexed.ts): one more blocking query on
 * /v1/health/state/any, and plain reads of only the services that may have changed, a few at a
 * time. The cache is replaced only by successful reads, so an outage freezes it.
 */
export class ConsulSource implements Source {
  readonly id: RegistryId;
  readonly #client: ConsulClient;
  readonly #o: ConsulSourceOptions;
  /** Health channels are watch keys: '' is the service list, a name that service's watch. */
  readonly #cache: SourceCache;
  readonly #watches = new Map<string, ServiceWatch>();
  /** Selected names (Isthmus-only services excluded) → their tags, as last listed. */
  #tags = new Map<string, string>();
  /** Names read at least once since listed (`synced` waits for all). */
  readonly #fetched = new Set<string>();
  #indexed: { readonly reader: IndexedReader; readonly abort: AbortController } | undefined;
  #listIndex = 0;
  /** The shared client's write count at the last list: moved since = the index move may be ours. */
  #writesAtList = 0;
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
      params: { filter: NOT_ISTHMUS_CATALOG },
      onData: (list, index, reset) => {
        if (reset) this.#o.logger?.warn({ registry: this.id }, 'consul index went backwards (server restarted or replaced): relisted');
        this.#contact('');
        this.#onList(list, index, reset);
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

  /** Names with their own blocking query now (tests: proves the connection budget). */
  watchedServices(): string[] {
    return [...this.#watches.keys()].sort();
  }

  /** `watch`: a blocking query per service; `index`: the index-driven mode. */
  mode(): 'watch' | 'index' {
    return this.#indexed === undefined ? 'watch' : 'index';
  }

  #watchTiming(signal: AbortSignal): Pick<Parameters<typeof runWatch>[0], 'client' | 'waitSeconds' | 'minIntervalMs' | 'maxBackoffMs' | 'signal'> {
    return { client: this.#client, waitSeconds: this.#o.waitSeconds, minIntervalMs: this.#o.minWatchIntervalMs, maxBackoffMs: this.#o.maxBackoffMs, signal };
  }

  #onList(list: ServiceList | null, index: number, reset: boolean): void {
    const entries = Object.entries(list ?? {}).filter(([name, tags]) => wantsService(name, Array.isArray(tags) ? tags : null, this.#o.settings));
    const refused = entries.flatMap(([name]) => {
      const reason = serviceNameProblem(name, this.#o.settings);
      return reason === undefined ? [] : [{ nativeId: name, reason }];
    });
    for (const q of this.#cache.replace(REFUSED, { snapshots: [], quarantined: refused })) {
      this.#o.logger?.warn({ registry: this.id, service: q.nativeId.slice(0, 80), reason: q.reason }, 'consul service quarantined: its name cannot be a model name');
    }
    const out = new Set(refused.map((q) => q.nativeId));
    const tags = new Map(entries.filter(([name]) => !out.has(name)).map(([name, t]) => [name, JSON.stringify((Array.isArray(t) ? (t as readonly unknown[]) : []).map(String).sort())]));
    for (const name of this.#tags.keys()) {
      if (tags.has(name)) continue;
      // Gone from the catalog (or only Isthmus records left): a real deletion, seen on a
      // successful read, so it is propagated.
      this.#unwatch(name);
      this.#fetched.delete(name);
      this.#cache.drop(name);
      // A watch that is no more cannot keep the source unreachable.
      this.#contact(name);
    }
    const changed = [...tags].filter(([name, t]) => this.#tags.get(name) !== t).map(([name]) => name);
    this.#tags = tags;
    const wanted = new Set(tags.keys());
    const max = this.#o.maxServiceWatches ?? MAX_SERVICE_WATCHES;
    // A little hysteresis, so a catalog hovering at the bound does not flip modes on every read.
    if (wanted.size > max || (this.#indexed !== undefined && wanted.size > Math.floor(max * 0.75))) {
      this.#toIndexed(wanted, changed, index, reset);
    } else {
      this.#toWatches(wanted);
    }
    this.#listIndex = index;
    this.#writesAtList = this.#client.writes;
    this.#listed = true;
    this.#checkSynced();
  }

  #toWatches(wanted: ReadonlySet<string>): void {
    if (this.#indexed !== undefined) {
      this.#indexed.abort.abort();
      this.#indexed = undefined;
      this.#contact(CHECKS);
      this.#o.logger?.info({ registry: this.id, services: wanted.size }, 'consul source: one blocking query per service again');
    }
    for (const name of wanted) if (!this.#watches.has(name)) this.#watchService(name);
  }

  #toIndexed(wanted: ReadonlySet<string>, changed: readonly string[], index: number, reset: boolean): void {
    const parent = this.#signal;
    if (parent === undefined) return;
    for (const name of [...this.#watches.keys()]) this.#unwatch(name);
    let current = this.#indexed;
    if (current === undefined) {
      this.#o.logger?.info({ registry: this.id, services: wanted.size }, 'consul source: more services than per-service watches allowed; index-driven reads');
      const abort = new AbortController();
      const stop = (): void => { abort.abort(); };
      parent.addEventListener('abort', stop, { once: true });
      abort.signal.addEventListener('abort', () => { parent.removeEventListener('abort', stop); }, { once: true });
      const reader = new IndexedReader({
        ...this.#watchTiming(abort.signal),
        minIntervalMs: this.#o.minWatchIntervalMs,
        concurrency: this.#o.readConcurrency ?? READ_CONCURRENCY,
        sweepMs: this.#o.sweepMs ?? SWEEP_MS,
        minSweepGapMs: this.#o.minSweepGapMs ?? MIN_SWEEP_GAP_MS,
        nodeWatches: this.#o.nodeWatches ?? NODE_WATCHES,
        onService: (name, entries, at) => { if (this.#indexed?.reader === reader) this.#onEntries(name, entries, at); },
        onServiceError: (name, err, failures) => { this.#fail(name, err, failures); },
        onChecks: () => { this.#contact(CHECKS); },
        onChecksError: (err, failures) => { this.#fail(CHECKS, err, failures); },
      });
      current = { reader, abort };
      this.#indexed = current;
      reader.setNames(wanted);
      reader.start();
      reader.touch(wanted);
      return;
    }
    current.reader.setNames(wanted);
    if (reset) current.reader.touch(wanted);
    else current.reader.touch(changed);
    if (!reset && changed.length === 0 && index !== this.#listIndex) current.reader.sweep(this.#client.writes !== this.#writesAtList, index);
  }

  #watchService(name: string): void {
    const parent = this.#signal;
    if (parent === undefined) return;
    const abort = new AbortController();
    const stop = (): void => { abort.abort(); };
    parent.addEventListener('abort', stop, { once: true });
    const w: ServiceWatch = { abort };
    this.#watches.set(name, w);
    void runWatch<HealthEntry[] | null>({
      ...this.#watchTiming(abort.signal),
      path: `/v1/health/service/${encodeURIComponent(name)}`,
      params: { filter: NOT_ISTHMUS_HEALTH },
      onData: (entries, index) => {
        if (this.#watches.get(name) === w) this.#onEntries(name, entries ?? [], index);
      },
      onError: (err, failures) => { this.#fail(name, err, failures); },
    }).finally(() => { parent.removeEventListener('abort', stop); });
  }

  #unwatch(name: string): void {
    this.#watches.get(name)?.abort.abort();
    this.#watches.delete(name);
  }

  #onEntries(name: string, entries: readonly HealthEntry[], index: number): void {
    if (!this.#tags.has(name)) return;
    this.#contact(name);
    this.#cache.replace(name, toSnapshots(name, entries, this.#o.settings, String(index)));
    this.#fetched.add(name);
    this.#checkSynced();
  }

  #checkSynced(): void {
    if (this.#cache.hasSynced() || !this.#listed) return;
    if ([...this.#tags.keys()].every((name) => this.#fetched.has(name))) {
      this.#cache.markSynced();
      this.#o.logger?.info({ registry: this.id, services: this.#tags.size, mode: this.mode() }, 'consul source synced');
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
      const fields = { registry: this.id, watch: key === '' ? 'catalog/services' : key === CHECKS ? 'health/state/any' : `health/service/${key}`, err: message, failures };
      if (auth) this.#o.logger?.error(fields, 'consul refused our ACL token; cache frozen, nothing deleted, retrying');
      else this.#o.logger?.warn(fields, 'consul watch failed; cache frozen, retrying');
    }
  }
}
