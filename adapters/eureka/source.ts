import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { PollLoop } from '../shared/poll-loop.ts';
import { SourceCache } from '../shared/source-cache.ts';
import type { EurekaClient } from './client.ts';
import { selfPreservationOf, toSnapshots, type ImportResult, type ImportSettings } from './convert.ts';
import { asArray, idOf, reconcileHash, type EurekaApplications, type EurekaInstance } from './native.ts';

export interface EurekaSourceOptions {
  readonly settings: ImportSettings;
  readonly fetchIntervalMs: number;
  readonly fullFetchAfterMs: number;
  readonly selfPreservation: 'hold' | 'ignore';
  readonly emptyAnswer: 'hold' | 'apply';
  readonly logger?: EngineLogger;
}

type View = Map<string, Map<string, EurekaInstance>>;

/** The dashboard is read at most this often (it is a whole HTML page). */
const DASHBOARD_EVERY_MS = 10_000;

/**
 * Eureka → model, the way DiscoveryClient keeps its local registry: one full fetch (GET /apps),
 * then deltas (GET /apps/delta) applied to the local view and checked with Eureka's reconcile
 * hash; a mismatch, or a gap longer than the server keeps deltas, means a full fetch. Each
 * application is one cache part, replaced whole when a fetch touched it. A failed fetch changes
 * nothing (freeze). Two answers the server cannot vouch for hold removals, visible in status:
 * self-preservation (expiry off, read from the dashboard) and an answer with none of the
 * imported instances left after there were some (that view is not applied at all).
 */
export class EurekaSource implements Source {
  readonly id: RegistryId;
  readonly #client: EurekaClient;
  readonly #o: EurekaSourceOptions;
  readonly #cache: SourceCache;
  #view: View = new Map();
  /** Imported endpoints per application in the applied view (the empty-answer rule). */
  #counts = new Map<string, number>();
  readonly #loop: PollLoop;
  #lastFetch = 0;
  #needFull = true;
  #selfPreservation: string | undefined;
  #dashboardAt = 0;
  #dashboardMissing = false;
  #empty: string | undefined;
  /** Full and delta fetches done (tests and the import-time figure). */
  readonly fetches = { full: 0, delta: 0, mismatches: 0 };

  constructor(id: RegistryId, client: EurekaClient, options: EurekaSourceOptions) {
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#cache = new SourceCache(id, { pending: [''] });
    const loop = { registry: id, kind: 'eureka', what: 'fetch', intervalMs: options.fetchIntervalMs, cache: this.#cache, logger: options.logger };
    this.#loop = new PollLoop(loop, () => this.#fetchOnce());
  }

  start(signal: AbortSignal): Promise<void> {
    void this.#loop.run(signal);
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return this.#cache.hasSynced();
  }

  health(): SourceHealth {
    const base = this.#cache.health();
    const reasons = [this.#selfPreservation, this.#empty].filter((r) => r !== undefined);
    return reasons.length === 0 ? base : { ...base, holdRemovals: reasons.join('; ') };
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

  /** Fetch now instead of at the next interval (tests). */
  poke(): void {
    this.#loop.wake();
  }

  async #fetchOnce(): Promise<void> {
    const stale = Date.now() - this.#lastFetch > this.#o.fullFetchAfterMs;
    if (this.#needFull || stale) await this.#full();
    else await this.#delta();
    if (this.#o.selfPreservation === 'hold') await this.#checkSelfPreservation();
    this.#loop.contact();
  }

  async #full(): Promise<void> {
    const started = Date.now();
    const { body } = await this.#client.applications();
    this.fetches.full++;
    this.#commit(viewOf(body), true, started);
  }

  async #delta(): Promise<void> {
    const started = Date.now();
    const { body } = await this.#client.delta();
    this.fetches.delta++;
    const next: View = new Map([...this.#view].map(([app, m]) => [app, new Map(m)]));
    const touched = new Set<string>();
    for (const app of asArray(body.application)) {
      for (const i of asArray(app.instance)) {
        const name = (app.name ?? i.app ?? '').toUpperCase();
        touched.add(name);
        const m = next.get(name) ?? new Map<string, EurekaInstance>();
        if (i.actionType === 'DELETED') m.delete(idOf(i));
        else m.set(idOf(i), i);
        if (m.size === 0) next.delete(name);
        else next.set(name, m);
      }
    }
    const local = reconcileHash([...next.values()].flatMap((m) => [...m.values()].map((i) => (i.status ?? 'UNKNOWN').toUpperCase())));
    if (body.apps__hashcode !== undefined && body.apps__hashcode !== local) {
      // Our view drifted (a delta missed, a cache between us and the server): start over.
      this.fetches.mismatches++;
      this.#o.logger?.debug({ registry: this.id, server: body.apps__hashcode, local }, 'eureka delta hash mismatch; full fetch');
      await this.#full();
      return;
    }
    this.#commit(next, false, started, touched);
  }

  /** Applies a new view to the cache: every app of it (full fetch), else the touched ones. */
  #commit(next: View, full: boolean, started: number, touched?: ReadonlySet<string>): void {
    const apps = full || touched === undefined ? new Set([...next.keys(), ...this.#view.keys()]) : touched;
    const results = new Map<string, ImportResult>();
    const counts = new Map(this.#counts);
    for (const app of apps) {
      const result = toSnapshots(app, [...(next.get(app)?.values() ?? [])], this.#o.settings);
      results.set(app, result);
      counts.set(app, result.snapshots.reduce((n, s) => n + s.endpoints.length, 0));
    }
    const before = sum(this.#counts);
    const after = sum(counts);
    if (this.#o.emptyAnswer === 'hold' && before > 0 && after === 0) {
      // Every imported instance gone in one answer is what a wiped or restarting server looks
      // like, far more often than a real retirement of everything: keep the last view.
      if (this.#empty === undefined) this.#o.logger?.warn({ registry: this.id, before }, 'eureka answered with none of the imported instances left; last view kept, removals held');
      this.#empty = `eureka answered with none of the ${before} imported instances left; the last view is kept`;
      this.#needFull = true;
      this.#lastFetch = started;
      return;
    }
    if (this.#empty !== undefined) {
      this.#empty = undefined;
      this.#cache.nudgeAll();
    }
    this.#view = next;
    this.#counts = new Map([...counts].filter(([, n]) => n > 0));
    for (const [app, result] of results) {
      if (!next.has(app)) this.#cache.drop(app);
      else for (const q of this.#cache.replace(app, result)) this.#o.logger?.warn({ registry: this.id, instance: q.nativeId, reason: q.reason }, 'eureka instance quarantined');
    }
    this.#needFull = false;
    this.#lastFetch = started;
    if (!this.#cache.hasSynced()) {
      this.#cache.markSynced();
      this.#o.logger?.info({ registry: this.id, apps: next.size }, 'eureka source synced');
    }
  }

  async #checkSelfPreservation(): Promise<void> {
    if (Date.now() - this.#dashboardAt < DASHBOARD_EVERY_MS) return;
    this.#dashboardAt = Date.now();
    const html = await this.#client.dashboard();
    const state = html === undefined ? undefined : selfPreservationOf(html);
    if (state === undefined) {
      if (!this.#dashboardMissing) this.#o.logger?.info({ registry: this.id, server: this.#client.server }, 'eureka dashboard unreadable: self-preservation cannot be detected (set dashboardUrl)');
      this.#dashboardMissing = true;
      return;
    }
    this.#dashboardMissing = false;
    const was = this.#selfPreservation;
    this.#selfPreservation = state.active ? `eureka ${this.#client.server} is in self-preservation: lease expiration is off${state.detail}` : undefined;
    if (was === undefined && this.#selfPreservation !== undefined) this.#o.logger?.warn({ registry: this.id, reason: this.#selfPreservation }, 'eureka in self-preservation: removals held');
    if (was !== undefined && this.#selfPreservation === undefined) {
      this.#o.logger?.info({ registry: this.id }, 'eureka left self-preservation');
      this.#cache.nudgeAll();
    }
  }
}

/** A full answer as app → id → instance. */
export function viewOf(body: EurekaApplications): View {
  const view: View = new Map();
  for (const app of asArray(body.application)) {
    const instances = asArray(app.instance);
    if (instances.length === 0) continue;
    const name = (app.name ?? instances[0]?.app ?? '').toUpperCase();
    const m = view.get(name) ?? new Map<string, EurekaInstance>();
    for (const i of instances) m.set(idOf(i), i);
    view.set(name, m);
  }
  return view;
}

function sum(counts: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of counts.values()) n += v;
  return n;
}
