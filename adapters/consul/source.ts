import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { BridgeError, describeError } from '../../bridge/errors/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { SnapshotCache } from '../shared/snapshot-cache.ts';
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
  /** Refs this Consul service produced last time (one per canonical namespace). */
  refs: Set<string>;
  quarantined: QuarantinedRecord[];
}

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
  readonly #cache = new SnapshotCache();
  readonly #watches = new Map<string, ServiceWatch>();
  /** Watch keys ('' = the service list) whose last read failed. */
  readonly #failing = new Map<string, string>();
  /** Selected services whose name the model refuses (`probe/slash`…): quarantined, never watched. */
  #refused = new Map<string, QuarantinedRecord>();
  #listed = false;
  #synced = false;
  #lastContact = Date.now();
  #lastError: string | undefined;
  #signal: AbortSignal | undefined;

  constructor(id: RegistryId, client: ConsulClient, options: ConsulSourceOptions) {
    this.id = id;
    this.#client = client;
    this.#o = options;
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
    return this.#synced;
  }

  health(): SourceHealth {
    const reachable = this.#failing.size === 0;
    const base = { reachable, lastContact: reachable ? Date.now() : this.#lastContact };
    return this.#lastError === undefined || reachable ? base : { ...base, lastError: this.#lastError };
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
    return [...this.#refused.values(), ...[...this.#watches.values()].flatMap((w) => w.quarantined)];
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
    const refused = new Map<string, QuarantinedRecord>();
    const now = Date.now();
    for (const name of selected) {
      const reason = serviceNameProblem(name, this.#o.settings);
      if (reason === undefined) continue;
      const prior = this.#refused.get(name);
      refused.set(name, prior?.reason === reason ? prior : { registry: this.id, nativeId: name, reason, since: now });
      if (prior === undefined) this.#o.logger?.warn({ registry: this.id, service: name.slice(0, 80), reason }, 'consul service quarantined: its name cannot be a model name');
    }
    this.#refused = refused;
    const wanted = new Set(selected.filter((name) => !refused.has(name)));
    for (const [name, w] of this.#watches) {
      if (wanted.has(name)) continue;
      // Gone from the catalog: a real deletion, seen on a successful read, so it is propagated.
      w.abort.abort();
      this.#watches.delete(name);
      this.#failing.delete(name);
      this.#replace(w, []);
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
    const w: ServiceWatch = { abort, synced: false, refs: new Set(), quarantined: [] };
    this.#watches.set(name, w);
    void runWatch<HealthEntry[] | null>({
      ...this.#watchTiming(abort.signal),
      path: `/v1/health/service/${encodeURIComponent(name)}`,
      onData: (entries, index) => {
        if (this.#watches.get(name) !== w) return;
        this.#contact(name);
        const result = toSnapshots(name, entries ?? [], this.#o.settings, String(index));
        const now = Date.now();
        // A record still refused for the same reason keeps its first `since` (how long it has been out).
        const before = new Map(w.quarantined.map((q) => [q.nativeId, q]));
        w.quarantined = result.quarantined.map((q) => {
          const prior = before.get(q.nativeId);
          const since = prior?.reason === q.reason ? prior.since : now;
          return { registry: this.id, nativeId: q.nativeId, ...(q.ref === undefined ? {} : { ref: q.ref }), reason: q.reason, since };
        });
        this.#replace(w, result.snapshots);
        w.synced = true;
        this.#checkSynced();
      },
      onError: (err, failures) => { this.#fail(name, err, failures); },
    }).finally(() => { parent.removeEventListener('abort', stop); });
  }

  #replace(w: ServiceWatch, snapshots: readonly ServiceSnapshot[]): void {
    w.refs = this.#cache.replace(w.refs, snapshots);
  }

  #checkSynced(): void {
    if (this.#synced || !this.#listed) return;
    if ([...this.#watches.values()].every((w) => w.synced)) {
      this.#synced = true;
      this.#o.logger?.info({ registry: this.id, services: this.#watches.size }, 'consul source synced');
    }
  }

  #contact(key: string): void {
    this.#lastContact = Date.now();
    if (this.#failing.delete(key) && this.#failing.size === 0) {
      this.#o.logger?.info({ registry: this.id }, 'consul reachable again');
      // Removals the engine held while we were unreachable must be looked at again even when
      // nothing changed since: a nudge is cheap and the engine re-reads level-triggered.
      this.#cache.nudgeAll();
    }
  }

  #fail(key: string, err: unknown, failures: number): void {
    const message = describeError(err);
    this.#failing.set(key, message);
    this.#lastError = message;
    // One line per outage per watch, then every 10th retry: an outage must not flood the logs.
    if (failures === 1 || failures % 10 === 0) {
      const auth = err instanceof BridgeError && err.code === 'ISTHMUS_REGISTRY_AUTH';
      const fields = { registry: this.id, watch: key === '' ? 'catalog/services' : `health/service/${key}`, err: message, failures };
      if (auth) this.#o.logger?.error(fields, 'consul refused our ACL token; cache frozen, nothing deleted, retrying');
      else this.#o.logger?.warn(fields, 'consul watch failed; cache frozen, retrying');
    }
  }

}

