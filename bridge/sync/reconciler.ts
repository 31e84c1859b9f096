import type { Endpoint, RegistryId, Route, RoutePolicy, ServiceSnapshot } from '../model/index.ts';
import { DEFAULT_POLICY, endpointKey } from '../model/index.ts';
import type { Sink, Source } from '../ports/index.ts';
import { desiredState, type DesiredState } from './desired.ts';
import { diffEndpoints, isNoop } from './diff.ts';
import { guardRemovals } from './guard.ts';
import type { ReconcileOutcome } from './status.ts';
import type { Split } from './split.ts';
import type { Contributor, Target } from './target.ts';

export interface ReconcileInput {
  readonly target: Target;
  readonly sink: Sink;
  readonly sources: ReadonlyMap<RegistryId, Source>;
  /** Every route into this sink (policy falls back to these when nothing is desired). */
  readonly routesToSink: readonly Route[];
  readonly contributors: readonly Contributor[];
  /** Origins whose endpoints must not be removed now, for the given policy, with why. */
  readonly frozen: (policy: RoutePolicy) => ReadonlyMap<RegistryId, string>;
  readonly heldSince: number | undefined;
  readonly now: number;
  /** False for a dry run or a replica that is not the leader: decide, but write nothing. */
  readonly write: boolean;
  /** The target service's migration split, if one is set. */
  readonly split?: Split;
}

export interface ReconcileResult {
  readonly outcome: ReconcileOutcome;
  readonly change: 'none' | 'create' | 'update' | 'delete' | 'hold';
  readonly desired: DesiredState;
  /** Endpoints owned before and after (after = what was or would be written). */
  readonly before: number;
  readonly after: number;
  readonly held?: { readonly reason: string; readonly endpoints: number; readonly shrink: boolean; readonly releaseAt?: number };
  /** Ask the queue to look again (a timed hold) after this many ms. */
  readonly requeueAfterMs?: number;
}

/**
 * One level-triggered pass over one target: desired (from source caches) vs actual (owned
 * records in the sink) → the fewest writes, with the deletion guard applied. The same function
 * serves create, update, delete, cold start, resync, hand edits and `isthmus plan`.
 */
export async function reconcile(input: ReconcileInput): Promise<ReconcileResult> {
  const { target, sink, now } = input;
  const desired = desiredState(target, input.contributors, input.sources, now, input.split);
  const actual = await sink.observe(target.ref);
  const before = actual?.endpoints.length ?? 0;
  const want = desired.snapshot;
  if (want === undefined && actual === undefined) {
    return { outcome: 'in-sync', change: 'none', desired, before, after: 0 };
  }

  const diff = diffEndpoints(want?.endpoints ?? [], actual?.endpoints ?? [], sink.fields);
  const policy = effectivePolicy(desired.routes, input.routesToSink, actual);
  const decision = guardRemovals({
    removed: diff.removed,
    actualCount: before,
    policy,
    frozen: input.frozen(policy),
    heldSince: input.heldSince,
    now,
  });

  if (decision.hold) {
    const base: ServiceSnapshot = want ?? { ...(actual as ServiceSnapshot), endpoints: [] };
    const kept = mergeEndpoints(base.endpoints, decision.keep);
    const effective: ServiceSnapshot = { ...base, endpoints: kept };
    const needsWrite = actual === undefined || !isNoop(diffEndpoints(kept, actual.endpoints, sink.fields));
    if (needsWrite && input.write) await sink.apply(effective);
    const held = {
      reason: decision.reason,
      endpoints: decision.keep.length,
      shrink: decision.shrink,
      ...(decision.releaseAt === undefined ? {} : { releaseAt: decision.releaseAt }),
    };
    return {
      outcome: 'held',
      change: 'hold',
      desired,
      before,
      after: kept.length,
      held,
      ...(decision.releaseAt === undefined ? {} : { requeueAfterMs: Math.max(0, decision.releaseAt - now) + 1 }),
    };
  }

  if (want === undefined) {
    if (input.write) await sink.remove(target.ref);
    return { outcome: input.write ? 'removed' : 'waiting', change: 'delete', desired, before, after: 0 };
  }
  if (actual !== undefined && isNoop(diff)) {
    return { outcome: 'in-sync', change: 'none', desired, before, after: want.endpoints.length };
  }
  if (input.write) await sink.apply(want);
  return {
    outcome: input.write ? 'applied' : 'waiting',
    change: actual === undefined ? 'create' : 'update',
    desired,
    before,
    after: want.endpoints.length,
  };
}

/**
 * The policy that guards a target fed by several routes: the strictest shrink limit of the routes
 * involved (those contributing now, or, when nothing is desired, those that fed what is owned).
 */
function effectivePolicy(contributing: readonly Route[], routesToSink: readonly Route[], actual: ServiceSnapshot | undefined): RoutePolicy {
  let candidates = contributing;
  if (candidates.length === 0) {
    const origins = new Set((actual?.endpoints ?? []).map((e) => e.origin.registry));
    candidates = routesToSink.filter((r) => r.from.some((f) => origins.has(f)));
  }
  if (candidates.length === 0) candidates = routesToSink;
  let best: RoutePolicy | undefined;
  for (const r of candidates) {
    if (best === undefined || r.policy.deleteGuard.maxShrinkPercent < best.deleteGuard.maxShrinkPercent) best = r.policy;
  }
  return best ?? DEFAULT_POLICY;
}

function mergeEndpoints(base: readonly Endpoint[], extra: readonly Endpoint[]): Endpoint[] {
  const byId = new Map(base.map((e) => [endpointKey(e), e]));
  for (const e of extra) if (!byId.has(endpointKey(e))) byId.set(endpointKey(e), e);
  return [...byId.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
}
