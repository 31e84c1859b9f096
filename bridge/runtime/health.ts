import type { RegistryId } from '../model/index.ts';

export interface Readiness {
  readonly ok: boolean;
  /** Why not ready, one sentence each; empty when ready. */
  readonly reasons: string[];
}

export interface Liveness {
  readonly ok: boolean;
}

/** The part of a Source readiness looks at. */
export interface SyncAware {
  readonly id: RegistryId;
  hasSynced(): boolean;
}

/**
 * Readiness (DESIGN §9): every source has completed its initial list and the process is not
 * shutting down. Before the first list the catalog is partial, and a resolver answering from a
 * partial catalog tells callers a service has fewer endpoints than it has. Reachability is not
 * part of it: an unreachable registry is frozen, and its last known state is still the best
 * answer.
 */
export function readiness(sources: readonly SyncAware[], shuttingDown: boolean): Readiness {
  const reasons: string[] = [];
  if (shuttingDown) reasons.push('shutting down');
  for (const s of sources) {
    if (!s.hasSynced()) reasons.push(`source "${s.id}" has not completed its initial list`);
  }
  return { ok: reasons.length === 0, reasons };
}

/** The probes' state for one process; the resolver's /readyz and /livez call these. */
export interface Health {
  readiness(): Readiness;
  /**
   * Answering at all proves the event loop turns, which is the only thing a restart would fix.
   * Registry outages must never fail liveness: restarting would only drop the caches.
   */
  liveness(): Liveness;
  /** First shutdown step: from now on readiness fails, so load balancers stop sending. */
  markShuttingDown(): void;
  isShuttingDown(): boolean;
}

export function createHealth(sources: readonly SyncAware[]): Health {
  let shuttingDown = false;
  return {
    readiness: () => readiness(sources, shuttingDown),
    liveness: () => ({ ok: true }),
    markShuttingDown: () => {
      shuttingDown = true;
    },
    isShuttingDown: () => shuttingDown,
  };
}
