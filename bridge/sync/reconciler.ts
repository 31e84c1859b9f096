import type { Endpoint, RegistryId, Route, RoutePolicy, ServiceSnapshot } from '../model/index.ts';
import { DEFAULT_POLICY, endpointKey } from '../model/index.ts';
import type { Sink, SinkOperation, SinkRefusal, Source } from '../ports/index.ts';
import { desiredState, type DesiredState } from './desired.ts';
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
  /** The most endpoints this target held within the recent window (guard.ts). */
  readonly recentPeak?: number;
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
  /** The native writes planned (and, when writing, performed). Empty = in sync. */
  readonly operations: readonly SinkOperation[];
  /** What the sink refused to write, with why (quarantined in status). */
  readonly refused: readonly SinkRefusal[];
  /** Endpoints owned before and after (after = what was or would be written). */
  readonly before: number;
  readonly after: number;
  readonly held?: { readonly reason: string; readonly endpoints: number; readonly shrink: boolean; readonly releaseAt?: number };
  /** Ask the queue to look again (a timed hold) after this many ms. */
  readonly requeueAfterMs?: number;
}

/**
 * One level-triggered pass over one target (DESIGN §3): desired (from source caches), one read
 * of what the sink owns, one plan of native writes, the deletion guard over the endpoints that
 * would disappear, then the writes. The same function serves create, update, delete, cold
 * start, resync, hand edits and `isthmus plan`.
 *
 * Only disappearance is guarded. An endpoint a live source reports as not ready stays in the
 * desired set with that health, so it is written as such (or withdrawn by a sink that cannot
 * hold health) at once, and never counts as a removal.
 */
export async function reconcile(input: ReconcileInput): Promise<ReconcileResult> {
  const { target, sink, now } = input;
  // A sink that enforces the split itself gets the endpoints' own weights and the split as a hint.
  const native = input.split !== undefined && sink.enforcesSplit?.(target.ref) === true;
  const hints = input.split === undefined ? {} : { split: input.split };
  const desired = desiredState(target, input.contributors, input.sources, now, native ? undefined : input.split);
  const state = await sink.read(target.ref);
  const actual = state.observed;
  const before = actual?.endpoints.length ?? 0;
  const want = desired.snapshot;
  const policy = effectivePolicy(desired.routes, input.routesToSink, actual);
  const decision = guardRemovals({
    removed: disappearing(want?.endpoints ?? [], actual?.endpoints ?? []),
    actualCount: before,
    ...(input.recentPeak === undefined ? {} : { recentPeak: input.recentPeak }),
    policy,
    frozen: input.frozen(policy),
    heldSince: input.heldSince,
    now,
  });

  if (decision.hold) {
    const base: ServiceSnapshot = want ?? { ...(actual as ServiceSnapshot), endpoints: [] };
    const effective: ServiceSnapshot = { ...base, endpoints: mergeEndpoints(base.endpoints, decision.keep) };
    const plan = sink.plan(state, effective, hints);
    if (plan.operations.length > 0 && input.write) await sink.execute(plan);
    return {
      outcome: 'held',
      change: 'hold',
      desired,
      operations: plan.operations,
      refused: plan.refusals ?? [],
      before,
      after: effective.endpoints.length,
      held: {
        reason: decision.reason,
        endpoints: decision.keep.length,
        shrink: decision.shrink,
        ...(decision.releaseAt === undefined ? {} : { releaseAt: decision.releaseAt }),
      },
      ...(decision.releaseAt === undefined ? {} : { requeueAfterMs: Math.max(0, decision.releaseAt - now) + 1 }),
    };
  }

  const plan = sink.plan(state, want, hints);
  const after = want?.endpoints.length ?? 0;
  const refused = plan.refusals ?? [];
  if (plan.operations.length === 0) return { outcome: 'in-sync', change: 'none', desired, operations: [], refused, before, after };
  if (input.write) await sink.execute(plan);
  const change = want === undefined ? 'delete' : actual === undefined ? 'create' : 'update';
  const outcome = !input.write ? 'planned' : want === undefined ? 'removed' : 'applied';
  return { outcome, change, desired, operations: plan.operations, refused, before, after };
}

/**
 * Owned endpoints the desired set no longer has: none of its endpoints at the same address
 * listens on all of the owned one's port numbers. Numbers, and a subset, because a sink may
 * store fewer ports than the model has, under its own port name (Consul and Nacos keep one
 * port per instance): an instance it stores is still desired when the desired endpoint has more.
 */
function disappearing(desired: readonly Endpoint[], actual: readonly Endpoint[]): Endpoint[] {
  const byAddress = new Map<string, Set<number>[]>();
  for (const d of desired) {
    const list = byAddress.get(d.address) ?? [];
    list.push(new Set(Object.values(d.ports)));
    byAddress.set(d.address, list);
  }
  return actual.filter((a) => {
    const ports = Object.values(a.ports);
    return !(byAddress.get(a.address) ?? []).some((have) => ports.every((p) => have.has(p)));
  });
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
