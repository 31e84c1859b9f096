import type { RegistryId } from '../model/index.ts';
import type { Config, Logger } from '../runtime/index.ts';
import { childLogger } from '../runtime/index.ts';
import { planTargets, Weights, type PlanReport, type PlannedChange } from '../sync/index.ts';
import { buildParts, closeParts, partsAbort, type AdapterKinds } from './build.ts';

export interface PlanOptions {
  readonly logger: Logger;
  /** How long to wait for the sources' initial lists before planning with what is there. */
  readonly timeoutMs: number;
}

/**
 * Dry run: connects, lists, and reports what a writer would create, update, delete or hold per
 * route, without writing anything (the reconciler runs with `write: false`).
 */
export async function planBridge(config: Config, kinds: AdapterKinds, options: PlanOptions): Promise<PlanReport> {
  const parts = buildParts(config, kinds, (registry) => childLogger(options.logger, { component: 'adapter', registry }));
  const abort = partsAbort();
  try {
    for (const s of parts.sources) await s.start(abort.signal);
    for (const s of parts.sinks) await s.start(abort.signal);
    const deadline = Date.now() + options.timeoutMs;
    while (Date.now() < deadline && !parts.sources.every((s) => s.hasSynced())) await new Promise((r) => setTimeout(r, 50));
    const unsyncedSources: RegistryId[] = parts.sources.filter((s) => !s.hasSynced()).map((s) => s.id);
    const planned = await planTargets({ bridgeId: config.bridge.id, sources: parts.sources, sinks: parts.sinks, routes: config.routes, weights: new Weights(config.weights) });
    const changes: PlannedChange[] = [];
    let inSync = 0;
    for (const { target, result } of planned) {
      if (result.change === 'none') {
        inSync++;
        continue;
      }
      const routes = result.desired.routes.map((r) => r.id);
      changes.push({
        route: routes.join(',') || `->${target.sink}`,
        sink: target.sink,
        ref: target.ref,
        action: result.change,
        before: result.before,
        after: result.after,
        operations: result.operations,
        ...(result.held === undefined ? {} : { reason: result.held.reason }),
      });
    }
    return { bridgeId: config.bridge.id, changes, inSync, unsyncedSources };
  } finally {
    abort.abort();
    await closeParts(parts);
  }
}
