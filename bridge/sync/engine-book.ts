import type { RegistryId, Route, ServiceRef } from '../model/index.ts';
import { mapRef, sameRef } from '../model/index.ts';
import type { QuarantinedRecord, Source } from '../ports/index.ts';
import type { ReconcileResult } from './reconciler.ts';
import type { BridgeStatus, HeldChange, ServiceExplain, TargetStatus } from './status.ts';
import { targetKey, type Target } from './target.ts';

/**
 * What the engine remembers about each target for status and explain: last outcome, running
 * holds (whose start time the deletion guard needs) and records refused by validation.
 * Bookkeeping only: nothing here decides what to write.
 */
export class EngineBook {
  readonly #bridgeId: string;
  readonly #routes: readonly Route[];
  readonly #sources: ReadonlyMap<RegistryId, Source>;
  readonly #targets = new Map<string, TargetStatus>();
  readonly #holds = new Map<string, HeldChange>();
  readonly #quarantine = new Map<string, readonly QuarantinedRecord[]>();
  /** Per target, the endpoint counts of its recent passes (at most one window old). */
  readonly #counts = new Map<string, { at: number; count: number }[]>();
  readonly #windowMs: number;

  /**
   * `windowMs`: how far back the deletion guard looks for what a target held — the debounce's
   * longest wait (maxDelayMs), the longest a burst of changes can be held together by the queue.
   */
  constructor(bridgeId: string, routes: readonly Route[], sources: ReadonlyMap<RegistryId, Source>, windowMs = 1_000) {
    this.#bridgeId = bridgeId;
    this.#routes = routes;
    this.#sources = sources;
    this.#windowMs = windowMs;
  }

  /** The most endpoints `key` held in a pass within the window before `now`; undefined if none. */
  recentPeak(key: string, now: number): number | undefined {
    const recent = this.#recent(key, now);
    return recent.length === 0 ? undefined : Math.max(...recent.map((c) => c.count));
  }

  #recent(key: string, now: number): { at: number; count: number }[] {
    const kept = (this.#counts.get(key) ?? []).filter((c) => now - c.at <= this.#windowMs);
    if (kept.length === 0) this.#counts.delete(key);
    else this.#counts.set(key, kept);
    return kept;
  }

  /** When the current shrink hold on `key` began; freezes are not timed and do not count. */
  heldSince(key: string): number | undefined {
    const h = this.#holds.get(key);
    return h?.releaseAt === undefined ? undefined : h.since;
  }

  record(key: string, target: Target, result: ReconcileResult, at: number): void {
    const { desired } = result;
    // Both ends of the pass: what the sink held before it, and after it (an addition raises the bar).
    const recent = this.#recent(key, at);
    recent.push({ at, count: Math.max(result.before, result.after) });
    this.#counts.set(key, recent.slice(-32));
    let held: HeldChange | undefined;
    if (result.held !== undefined) {
      const previous = this.#holds.get(key);
      const since = result.held.shrink && previous?.releaseAt !== undefined ? previous.since : at;
      held = {
        sink: target.sink,
        ref: target.ref,
        reason: result.held.reason,
        endpoints: result.held.endpoints,
        since,
        ...(result.held.releaseAt === undefined ? {} : { releaseAt: result.held.releaseAt }),
      };
      this.#holds.set(key, held);
    } else {
      this.#holds.delete(key);
    }
    const refused = result.refused.map((r): QuarantinedRecord => ({ registry: target.sink, nativeId: r.nativeId, ref: target.ref, reason: r.reason, since: this.#quarantine.get(key)?.find((q) => q.nativeId === r.nativeId && q.registry === target.sink)?.since ?? at }));
    const quarantined = [...desired.quarantined, ...refused];
    if (quarantined.length > 0) this.#quarantine.set(key, quarantined);
    else this.#quarantine.delete(key);
    this.#targets.set(key, {
      sink: target.sink,
      ref: target.ref,
      routes: desired.routes.map((r) => r.id),
      outcome: result.outcome,
      desiredEndpoints: desired.snapshot?.endpoints.length ?? 0,
      at,
      ...(held === undefined ? {} : { held }),
    });
  }

  /** Drops everything remembered about a target that no source feeds and no sink holds. */
  forget(key: string): void {
    this.#counts.delete(key);
    this.#targets.delete(key);
    this.#holds.delete(key);
    this.#quarantine.delete(key);
  }

  /** Targets remembered (for tests that prove bookkeeping shrinks back). */
  get size(): number {
    return Math.max(this.#targets.size, this.#holds.size, this.#quarantine.size, this.#counts.size);
  }

  recordError(key: string, target: Target, error: string, at: number): void {
    const previous = this.#targets.get(key);
    this.#targets.set(key, {
      sink: target.sink,
      ref: target.ref,
      routes: previous?.routes ?? [],
      outcome: 'error',
      desiredEndpoints: previous?.desiredEndpoints ?? 0,
      at,
      error,
    });
  }

  targets(): TargetStatus[] {
    return [...this.#targets.values()];
  }

  quarantined(): QuarantinedRecord[] {
    const fromSources = [...this.#sources.values()].flatMap((s) => s.quarantined());
    return [...fromSources, ...[...this.#quarantine.values()].flat()];
  }

  summary(leader: boolean, queueDepth: number): BridgeStatus {
    return {
      bridgeId: this.#bridgeId,
      leader,
      sources: [...this.#sources.values()].map((s) => ({
        id: s.id,
        synced: s.hasSynced(),
        health: s.health(),
        services: count(s.keys()),
      })),
      routes: this.#routes.map((r) => ({ id: r.id, from: r.from, to: r.to })),
      queueDepth,
      held: [...this.#holds.values()],
      quarantined: this.quarantined(),
      errors: [...this.#targets.values()].filter((t) => t.outcome === 'error'),
    };
  }

  explain(ref: ServiceRef): ServiceExplain {
    const sources: { id: RegistryId; endpoints: number }[] = [];
    const keys = new Set<string>();
    for (const s of this.#sources.values()) {
      const snap = s.get(ref);
      if (snap === undefined) continue;
      sources.push({ id: s.id, endpoints: snap.endpoints.length });
      for (const r of this.#routes) if (r.from.includes(s.id)) keys.add(targetKey({ sink: r.to, ref: mapRef(r.map, ref) }));
    }
    for (const [key, t] of this.#targets) if (sameRef(t.ref, ref)) keys.add(key);
    const targets = [...keys].flatMap((k) => {
      const t = this.#targets.get(k);
      return t === undefined ? [] : [t];
    });
    const quarantined = this.quarantined().filter((q) => q.ref !== undefined && sameRef(q.ref, ref));
    return { ref, sources, targets, quarantined };
  }
}

function count(it: Iterable<unknown>): number {
  let n = 0;
  for (const _ of it) n++;
  return n;
}
