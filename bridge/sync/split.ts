import type { Endpoint, RegistryId } from '../model/index.ts';
import { MAX_WEIGHT } from '../model/index.ts';

/**
 * A service's migration split: registry id → share (any non-negative numbers; `vm: 90, k8s: 10`
 * reads as percent but only the ratio matters).
 */
export type Split = Readonly<Record<RegistryId, number>>;

/**
 * Endpoint weights with `split` applied, so that the ready endpoints of each listed origin
 * together carry that origin's share, divided among them by their own weights.
 *
 * - Without `anchor` the shares are of MAX_WEIGHT (resolver answers). With `anchor`, that
 *   origin's endpoints keep their weights and the others are scaled against them: a sink may not
 *   rewrite records it does not own, so 90/10 in Nacos means "pods weigh a ninth of the native
 *   VM instances", whatever those weigh.
 * - Origins with no ready endpoint (or a zero share) drop out and the others are renormalised:
 *   when the VMs are gone the pods take everything instead of half the traffic failing.
 * - Ready endpoints of unlisted origins get weight 0 while any listed origin can serve; with none
 *   left, the weights stay as the registries gave them (fail over to whatever exists).
 * - Endpoints that are not ready keep their weight: nothing routes to them anyway.
 * - A ready endpoint never falls to 0 through rounding, which registries read as "drained".
 *
 * Pure, maps one to one (same order), and returns the same array when there is nothing to do.
 */
export function applySplit(endpoints: readonly Endpoint[], split: Split | undefined, anchor?: RegistryId): readonly Endpoint[] {
  if (split === undefined) return endpoints;
  const totals = new Map<RegistryId, number>();
  for (const ep of endpoints) {
    const share = split[ep.origin.registry] ?? 0;
    if (!ep.ready || share <= 0 || ep.weight <= 0) continue;
    totals.set(ep.origin.registry, (totals.get(ep.origin.registry) ?? 0) + ep.weight);
  }
  let shareSum = 0;
  for (const registry of totals.keys()) shareSum += split[registry] ?? 0;
  if (shareSum <= 0) return endpoints;
  const anchorTotal = anchor === undefined ? undefined : totals.get(anchor);
  // Weight one share point is worth: fixed by the anchor's records when it can serve.
  const perShare = anchor === undefined || anchorTotal === undefined ? MAX_WEIGHT / shareSum : anchorTotal / (split[anchor] ?? 1);
  return endpoints.map((ep) => {
    if (!ep.ready || (anchorTotal !== undefined && ep.origin.registry === anchor)) return ep;
    const total = totals.get(ep.origin.registry);
    if (total === undefined) return ep.weight === 0 ? ep : { ...ep, weight: 0 };
    const share = split[ep.origin.registry] ?? 0;
    const weight = Math.min(MAX_WEIGHT, Math.max(1, Math.round((perShare * share * ep.weight) / total)));
    return weight === ep.weight ? ep : { ...ep, weight };
  });
}

/** Checks a split from config or the runtime API; returns a problem or undefined. */
export function splitProblem(split: Readonly<Record<string, unknown>>): string | undefined {
  const entries = Object.entries(split);
  if (entries.length === 0) return 'a split needs at least one origin, like vm=90 k8s=10';
  for (const [registry, share] of entries) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(registry)) return `${JSON.stringify(registry)} is not a registry id`;
    if (typeof share !== 'number' || !Number.isFinite(share) || share < 0 || share > MAX_WEIGHT) {
      return `share of ${registry} must be a number from 0 to ${MAX_WEIGHT}`;
    }
  }
  if (entries.every(([, share]) => share === 0)) return 'at least one share must be above 0';
  return undefined;
}
