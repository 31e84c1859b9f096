import type { Endpoint, RegistryId, Route, ServiceSnapshot } from '../model/index.ts';
import { endpointKey, endpointProblem, liveness, mergeShape, selects } from '../model/index.ts';
import type { QuarantinedRecord, Source } from '../ports/index.ts';
import { applySplit, type Split } from './split.ts';
import type { Contributor, Target } from './target.ts';

export interface DesiredState {
  /** Undefined when no selected source has the service: the target should not exist. */
  readonly snapshot: ServiceSnapshot | undefined;
  /** Routes that contributed at least one selected source service. */
  readonly routes: readonly Route[];
  /** Contributors whose source no longer has the ref (to prune from the index). */
  readonly gone: readonly Contributor[];
  /** Endpoints refused by validation, with reasons. */
  readonly quarantined: readonly QuarantinedRecord[];
  /** Sources left out because they have been unreachable for longer than staleAfter. */
  readonly stale: readonly RegistryId[];
}

/**
 * The desired state of one target: the union of every contributing source snapshot, filtered by
 * each route's selector and health policy. Contributors come in config order and the first to
 * say something wins (an endpoint at the same address and ports, a port name, a metadata key:
 * `mergeShape`, the same rule as the catalog's). Pure apart from reading source caches.
 */
export function desiredState(
  target: Target,
  contributors: readonly Contributor[],
  sources: ReadonlyMap<RegistryId, Source>,
  now: number,
  split?: Split,
): DesiredState {
  const endpoints = new Map<string, Endpoint>();
  const shapes: ServiceSnapshot[] = [];
  const routes = new Set<Route>();
  const gone: Contributor[] = [];
  const quarantined: QuarantinedRecord[] = [];
  const stale = new Set<RegistryId>();
  let origin: RegistryId | undefined;

  for (const c of contributors) {
    const source = sources.get(c.source);
    const snap = source?.get(c.ref);
    if (source === undefined || snap === undefined) {
      gone.push(c);
      continue;
    }
    if (!selects(c.route.select, snap)) continue;
    const staleAfter = c.route.policy.staleAfterSeconds;
    const health = source.health();
    if (staleAfter !== undefined && !health.reachable && now - health.lastContact > staleAfter * 1000) {
      stale.add(c.source);
      continue;
    }
    routes.add(c.route);
    origin ??= c.source;
    shapes.push(snap);
    for (const ep of snap.endpoints) {
      const problem = endpointProblem(ep);
      if (problem !== undefined) {
        quarantined.push({ registry: ep.origin.registry, nativeId: ep.origin.nativeId, ref: c.ref, reason: problem, since: now });
        continue;
      }
      // Health is state (DESIGN §5): a not-ready endpoint stays desired, as not ready, so the
      // sink writes its health (or withdraws it where it cannot) and the guard never sees it go.
      const exported = !c.route.policy.exportDraining && liveness(ep) === 'draining' ? { ...ep, serving: false } : ep;
      if (!endpoints.has(endpointKey(ep))) endpoints.set(endpointKey(ep), exported);
    }
  }

  const exported = [...endpoints.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
  const snapshot: ServiceSnapshot | undefined =
    origin === undefined
      ? undefined
      : {
          ref: target.ref,
          ...mergeShape(shapes),
          endpoints: withSplit(exported, split, target, sources),
          origin,
        };
  return { snapshot, routes: [...routes], gone, quarantined, stale: [...stale] };
}

/**
 * The migration split, scaled against the sink registry's own records of the service (which we
 * may not rewrite) when it has some: they are the anchor the exported weights are relative to.
 */
function withSplit(exported: Endpoint[], split: Split | undefined, target: Target, sources: ReadonlyMap<RegistryId, Source>): Endpoint[] {
  if (split === undefined) return exported;
  const native = (sources.get(target.sink)?.get(target.ref)?.endpoints ?? []).filter((ep) => ep.origin.registry === target.sink);
  const weighted = applySplit([...native, ...exported], split, target.sink);
  return weighted.slice(native.length);
}
