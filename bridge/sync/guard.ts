import type { Endpoint, RegistryId, RoutePolicy } from '../model/index.ts';

export interface GuardInput {
  /** Endpoints the plain diff would remove from the sink. */
  readonly removed: readonly Endpoint[];
  /** How many endpoints the sink holds now. */
  readonly actualCount: number;
  /**
   * The most endpoints the sink held in the last moments (one debounce window, see EngineBook):
   * a burst of removals that reached the engine as two passes is judged as one.
   */
  readonly recentPeak?: number;
  readonly policy: RoutePolicy;
  /** Origins whose endpoints must not be removed now, with why (unreachable, went empty). */
  readonly frozen: ReadonlyMap<RegistryId, string>;
  /** When the current shrink hold began, if one is running for this target. */
  readonly heldSince: number | undefined;
  readonly now: number;
}

export type GuardDecision =
  | { readonly hold: false }
  | {
      readonly hold: true;
      /** Endpoints to keep in the sink although the sources no longer list them. */
      readonly keep: readonly Endpoint[];
      readonly reason: string;
      /** Whether this is a timed shrink hold (vs a freeze that lasts while its cause does). */
      readonly shrink: boolean;
      readonly releaseAt?: number;
    };

/**
 * The deletion rules of DESIGN §4, as a pure decision over one target's pending removals:
 * 1. endpoints from an origin that is unreachable (and not yet stale) or whose whole view went
 *    empty are frozen: kept for as long as that lasts;
 * 2. if the remaining removals exceed `maxShrinkPercent` of what the sink holds, they are held
 *    for `holdSeconds` and applied only if the sources still say so after that. "What the sink
 *    holds" is the most it held within the recent window, so a burst split across passes (by
 *    the debounce, or by a source that reports it in pieces) is held as a whole would be; only
 *    this pass's removals are kept, what earlier passes removed stays removed.
 */
export function guardRemovals(input: GuardInput): GuardDecision {
  const { removed, actualCount, policy, frozen, heldSince, now } = input;
  const keep: Endpoint[] = [];
  const reasons = new Set<string>();
  const rest: Endpoint[] = [];
  for (const ep of removed) {
    const why = frozen.get(ep.origin.registry);
    if (why === undefined) {
      rest.push(ep);
    } else {
      keep.push(ep);
      reasons.add(why);
    }
  }

  const guard = policy.deleteGuard;
  const baseline = Math.max(actualCount, input.recentPeak ?? 0);
  const going = rest.length === 0 ? 0 : baseline - (actualCount - rest.length);
  const shrinkPercent = baseline === 0 ? 0 : (going / baseline) * 100;
  let shrink = false;
  let releaseAt: number | undefined;
  if (shrinkPercent > guard.maxShrinkPercent) {
    const since = heldSince ?? now;
    releaseAt = guard.holdSeconds > 0 ? since + guard.holdSeconds * 1000 : undefined;
    if (releaseAt === undefined || now < releaseAt) {
      shrink = true;
      keep.push(...rest);
      reasons.add(
        `${going} of ${baseline} endpoints (${Math.round(shrinkPercent)}%) would go ${going === rest.length ? 'at once' : `in a short window (${rest.length} now, ${going - rest.length} already just before)`}, more than ` +
          `${guard.maxShrinkPercent}%: held${releaseAt === undefined ? ' until the sources change' : ` for ${guard.holdSeconds}s`}`,
      );
    }
  }

  if (keep.length === 0) return { hold: false };
  const reason = [...reasons].join('; ');
  return shrink && releaseAt !== undefined
    ? { hold: true, keep, reason, shrink, releaseAt }
    : { hold: true, keep, reason, shrink };
}
