import type { CatalogEntry } from '../catalog/index.ts';
import { refKey, sameValue, type RegistryId, type ServiceRef } from '../model/index.ts';
import type { Migration, MigrationReport, MigrationStore } from '../ports/index.ts';
import type { MigrationStatus } from '../runtime/index.ts';
import type { EngineLogger, ServiceExplain, Weights } from '../sync/index.ts';
import { objectKey, type MigrationFollower } from './migration-follower.ts';
import { migrationStatus } from './migration-status.ts';

export interface MigrationStatusWriterOptions {
  readonly store: MigrationStore;
  readonly follower: MigrationFollower;
  readonly weights: Weights;
  readonly catalog: { get(ref: ServiceRef): CatalogEntry | undefined };
  readonly engine: { explain(ref: ServiceRef): ServiceExplain };
  /** Only the leader writes status: replicas would otherwise fight over it. */
  readonly isLeader: () => boolean;
  readonly kube: ReadonlySet<RegistryId>;
  readonly logger: EngineLogger;
  /** Each object's status is written at most once per interval, and only when it changed. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

// A status whose only change is lastSync is rewritten at most this often: resyncs would
// otherwise write every object on every pass.
const LAST_SYNC_REFRESH_MS = 60_000;

/**
 * Writes the status subresource of every ServiceMigration from what the engine and catalog
 * know, on the leader only, rate-limited per object, skipping writes that change nothing.
 */
export class MigrationStatusWriter {
  readonly #o: MigrationStatusWriterOptions;
  readonly #now: () => number;
  /** `ns/name` → sink → when the engine last wrote the service there (epoch ms). */
  readonly #lastWrites = new Map<string, Map<RegistryId, number>>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #failing = false;

  constructor(options: MigrationStatusWriterOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#timer = setInterval(() => { void this.tick(); }, this.#o.intervalMs ?? 2000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** One pass: computes every object's status and writes those that changed (leader only). */
  async tick(): Promise<number> {
    if (this.#busy) return 0;
    this.#busy = true;
    try {
      const migrations = this.#o.store.list();
      for (const m of migrations) this.#noteWrites(m.ref);
      const live = new Set(migrations.map((m) => refKey(m.ref)));
      for (const key of this.#lastWrites.keys()) if (!live.has(key)) this.#lastWrites.delete(key);
      if (!this.#o.isLeader() || !this.#o.store.available().ok) return 0;
      let written = 0;
      for (const m of migrations) {
        // Several bridges may share a cluster: one whose registries do not list the service
        // leaves an existing status to the bridge that does, instead of fighting over it.
        if (m.status !== undefined && this.#o.catalog.get(m.ref) === undefined) continue;
        const status = this.#statusOf(m);
        if (!changed(m.status, status, this.#now())) continue;
        await this.#o.store.writeStatus(m.object, status);
        written += 1;
      }
      if (this.#failing) this.#o.logger.info({}, 'ServiceMigration status writes work again');
      this.#failing = false;
      return written;
    } catch (err) {
      if (!this.#failing) this.#o.logger.warn({ err }, 'writing ServiceMigration status failed; retrying every interval');
      this.#failing = true;
      return 0;
    } finally {
      this.#busy = false;
    }
  }

  /** The migration of `ref` as `isthmus status` shows it: its object, split and a fresh status. */
  report(ref: ServiceRef): MigrationReport {
    const available = this.#o.store.available();
    const m = this.#o.follower.governing(ref);
    const split = this.#o.weights.get(ref);
    const splitFrom = this.#o.weights.origin(ref);
    const base = {
      ...(available.ok ? {} : { unavailable: available.reason ?? 'ServiceMigration objects cannot be read' }),
      ...(split === undefined ? {} : { split }),
      ...(splitFrom === undefined ? {} : { splitFrom }),
    };
    if (m === undefined) return base;
    const problem = this.#o.follower.problemOf(m);
    return {
      ...base,
      object: objectKey(m),
      ...(m.phase === undefined ? {} : { phase: m.phase }),
      ...(problem === undefined ? {} : { problem }),
      status: this.#statusOf(m),
    };
  }

  #statusOf(m: Migration): MigrationStatus {
    return migrationStatus({
      migration: m,
      split: this.#o.weights.get(m.ref),
      splitFrom: this.#o.weights.origin(m.ref),
      problem: this.#o.follower.problemOf(m),
      entry: this.#o.catalog.get(m.ref),
      explain: this.#o.engine.explain(m.ref),
      lastWrites: this.#lastWrites.get(refKey(m.ref)) ?? new Map(),
      kube: this.#o.kube,
      now: this.#now(),
    });
  }

  /** Remembers when each sink last changed the service: the engine keeps only the latest outcome. */
  #noteWrites(ref: ServiceRef): void {
    const key = refKey(ref);
    for (const t of this.#o.engine.explain(ref).targets) {
      if (t.outcome !== 'applied' && t.outcome !== 'removed') continue;
      const writes = this.#lastWrites.get(key) ?? new Map<RegistryId, number>();
      if ((writes.get(t.sink) ?? 0) < t.at) writes.set(t.sink, t.at);
      this.#lastWrites.set(key, writes);
    }
  }
}

function changed(before: MigrationStatus | undefined, after: MigrationStatus, now: number): boolean {
  if (before === undefined) return true;
  const { lastSync: a, ...restBefore } = before;
  const { lastSync: b, ...restAfter } = after;
  if (!sameValue(restBefore, restAfter)) return true;
  if (a === b || b === undefined) return false;
  return a === undefined || now - Date.parse(a) >= LAST_SYNC_REFRESH_MS;
}
