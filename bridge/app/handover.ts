import type { LeaderElection } from '../ports/index.ts';

/** Used when the elector does not say how fast a peer retries (client-go's 2 s default, plus jitter). */
export const DEFAULT_TAKEOVER_MS = 2400;
/** Time for the new leader to notice it leads, resync, and write every record once. */
export const RESYNC_MARGIN_MS = 3000;
/**
 * Upper bound of the linger. Shutdown as a whole must end within its 25 s deadline (and the Helm
 * chart's 40 s grace period less the 5 s preStop); the steps before the linger — draining the
 * resolver, finishing in-flight writes — get the other 15 s.
 */
export const MAX_LINGER_MS = 10_000;
/** How often the runtime checks whether this replica has become the leader. */
export const LEADERSHIP_POLL_MS = 200;

/**
 * How long to keep registry connections open after releasing the lease. Ephemeral records
 * (Nacos instances, Dubbo znodes) die with our connection, and the follower writes nothing until
 * it leads: closing at once would leave them missing until it has taken over and resynced. Two
 * retry periods (one failed attempt is tolerated) plus the resync margin, capped.
 */
export function lingerMs(leader: Pick<LeaderElection, 'takeoverMs'>): number {
  return Math.min(2 * (leader.takeoverMs ?? DEFAULT_TAKEOVER_MS) + RESYNC_MARGIN_MS, MAX_LINGER_MS);
}

/**
 * Calls `onGained` whenever this replica becomes the leader. The engine skips writes while a
 * follower and, idle, would only notice leadership at its next periodic resync (minutes later);
 * a takeover must re-check everything at once. Returns a stop function.
 */
export function onLeadershipGained(leader: Pick<LeaderElection, 'isLeader' | 'onChange'>, onGained: () => void, intervalMs = LEADERSHIP_POLL_MS): () => void {
  return onLeadershipChange(leader, (leading) => { if (leading) onGained(); }, intervalMs);
}

/**
 * Calls `onChange` with the new state whenever this replica gains or loses leadership: the
 * elector's own listener when it has one, else a poll of `isLeader`. Returns a stop function.
 */
export function onLeadershipChange(leader: Pick<LeaderElection, 'isLeader' | 'onChange'>, onChange: (leading: boolean) => void, intervalMs = LEADERSHIP_POLL_MS): () => void {
  if (leader.onChange !== undefined) return leader.onChange(onChange);
  let leading = leader.isLeader();
  const timer = setInterval(() => {
    const now = leader.isLeader();
    if (now !== leading) onChange(now);
    leading = now;
  }, intervalMs);
  timer.unref();
  return () => { clearInterval(timer); };
}

/** Resolves after `ms`; the timer keeps the process alive on purpose (connections must stay open). */
export function linger(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
