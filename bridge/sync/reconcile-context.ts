import type { RegistryId, Route, RoutePolicy, ServiceRef } from '../model/index.ts';
import type { Sink, Source } from '../ports/index.ts';
import { EngineBook } from './engine-book.ts';
import type { ReconcileInput, ReconcileResult } from './reconciler.ts';
import { ContributorIndex, targetKey, type Target } from './target.ts';
import type { Weights } from './weights.ts';

/**
 * Everything a reconcile of one target reads besides the registries: the routes into its sink,
 * which source services feed it, its bookkeeping, the deletion-guard freezes. Shared by the
 * engine's workers and the dry run (`isthmus plan`), so both decide exactly alike.
 */
export class ReconcileContext {
  readonly routes: readonly Route[];
  readonly sources: ReadonlyMap<RegistryId, Source>;
  readonly sinks: ReadonlyMap<RegistryId, Sink>;
  readonly index = new ContributorIndex();
  readonly book: EngineBook;
  readonly #routesBySink = new Map<RegistryId, Route[]>();
  /** Targets known only from a sink's owned records (no source feeds them now): garbage to collect. */
  readonly #ownedOnly = new Map<string, Target>();
  /** Sources that have listed at least one service: an empty view after that is suspicious. */
  readonly #hadKeys = new Set<RegistryId>();
  readonly #weights: Weights | undefined;

  constructor(bridgeId: string, sources: readonly Source[], sinks: readonly Sink[], routes: readonly Route[], weights?: Weights, guardWindowMs?: number) {
    this.routes = routes;
    this.sources = new Map(sources.map((s) => [s.id, s]));
    this.sinks = new Map(sinks.map((s) => [s.id, s]));
    for (const r of routes) {
      const list = this.#routesBySink.get(r.to) ?? [];
      list.push(r);
      this.#routesBySink.set(r.to, list);
    }
    this.book = new EngineBook(bridgeId, routes, this.sources, guardWindowMs);
    this.#weights = weights;
  }

  routesInto(sink: RegistryId): readonly Route[] {
    return this.#routesBySink.get(sink) ?? [];
  }

  /** A source says `ref` may have changed: the keys of every target it feeds. */
  noteSource(source: RegistryId, ref: ServiceRef): string[] {
    if (!this.#hadKeys.has(source) && this.sources.get(source)?.get(ref) !== undefined) this.#hadKeys.add(source);
    return this.index.note(this.routes, source, ref).map((t) => t.key);
  }

  /** A sink owns records of `ref`: the key of that target. */
  noteOwned(sink: RegistryId, ref: ServiceRef): string {
    const target = { sink, ref };
    const key = targetKey(target);
    if (this.index.target(key) === undefined) this.#ownedOnly.set(key, target);
    return key;
  }

  target(key: string): Target | undefined {
    return this.index.target(key) ?? this.#ownedOnly.get(key);
  }

  /** Every target known now, sources' and sinks' alike. */
  keys(): Set<string> {
    return new Set([...this.index.keys(), ...this.#ownedOnly.keys()]);
  }

  input(key: string, target: Target, write: boolean, now = Date.now()): ReconcileInput {
    const split = this.#weights?.get(target.ref);
    const sink = this.sinks.get(target.sink);
    if (sink === undefined) throw new Error(`no sink ${target.sink}`);
    return {
      target,
      sink,
      sources: this.sources,
      routesToSink: this.routesInto(target.sink),
      contributors: this.index.get(key),
      frozen: (policy) => this.frozenOrigins(policy, now),
      heldSince: this.book.heldSince(key),
      ...recentPeakOf(this.book.recentPeak(key, now)),
      now,
      write,
      ...(split === undefined ? {} : { split }),
    };
  }

  /**
   * After a pass: forget contributors whose source no longer has the service, and forget the
   * target altogether once nothing feeds it and nothing is owned, so bookkeeping follows the
   * services that exist rather than every name ever seen.
   */
  settle(key: string, target: Target, result: ReconcileResult, at: number): void {
    for (const c of result.desired.gone) this.index.prune(key, c);
    const finished = result.desired.snapshot === undefined && result.held === undefined && (result.outcome === 'in-sync' || result.outcome === 'removed');
    const fed = this.index.target(key) !== undefined;
    if (!fed && finished) {
      this.#ownedOnly.delete(key);
      this.book.forget(key);
      return;
    }
    // Still owned (a held removal, a dry run) but fed by nothing: keep it findable for the retry.
    if (fed) this.#ownedOnly.delete(key);
    else this.#ownedOnly.set(key, target);
    this.book.record(key, target, result, at);
  }

  /** Sizes of the per-service tables (tests prove they shrink back after churn). */
  sizes(): { contributors: number; ownedOnly: number; book: number } {
    return { contributors: this.index.size, ownedOnly: this.#ownedOnly.size, book: this.book.size };
  }

  frozenOrigins(policy: RoutePolicy, now = Date.now()): Map<RegistryId, string> {
    const frozen = new Map<RegistryId, string>();
    for (const [id, source] of this.sources) {
      const h = source.health();
      const stale = policy.staleAfterSeconds !== undefined && now - h.lastContact > policy.staleAfterSeconds * 1000;
      if (!h.reachable && !stale) {
        frozen.set(id, `source ${id} is unreachable${h.lastError === undefined ? '' : ` (${h.lastError})`}: its endpoints are frozen`);
      } else if (h.holdRemovals !== undefined) {
        frozen.set(id, `source ${id} cannot tell removals now (${h.holdRemovals}): its endpoints are frozen`);
      } else if (policy.deleteGuard.registryEmpty === 'hold' && this.#hadKeys.has(id) && isEmpty(source)) {
        frozen.set(id, `source ${id} went empty after listing services: held as a likely outage, not propagated`);
      }
    }
    return frozen;
  }
}

function isEmpty(source: Source): boolean {
  return source.keys()[Symbol.iterator]().next().done === true;
}

function recentPeakOf(peak: number | undefined): { recentPeak?: number } {
  return peak === undefined ? {} : { recentPeak: peak };
}
