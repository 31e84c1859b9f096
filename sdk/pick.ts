import type { ResolvedEndpoint } from './types.ts';

/** Where a caller would rather send traffic, when that side has anything ready. */
export interface Preference {
  /** Prefer endpoints in this zone (same rack / AZ as the caller). */
  readonly zone?: string;
  /** Prefer endpoints from this registry id (the caller's own side: its VM registry, or k8s). */
  readonly origin?: string;
}

/**
 * The ready endpoints a caller should use: narrowed to its preferred origin, then zone, for as
 * long as that leaves something; otherwise everything ready (fail over rather than fail).
 */
export function usable(endpoints: readonly ResolvedEndpoint[], prefer: Preference = {}): ResolvedEndpoint[] {
  let out = endpoints.filter((ep) => ep.ready);
  if (prefer.origin !== undefined) {
    const same = out.filter((ep) => ep.origin === prefer.origin);
    if (same.length > 0) out = same;
  }
  if (prefer.zone !== undefined) {
    const same = out.filter((ep) => ep.zone === prefer.zone);
    if (same.length > 0) out = same;
  }
  return out;
}

/**
 * Weighted round-robin as a plain sequence: about `slots` entries in which each endpoint appears
 * in proportion to its weight (largest remainder, at least once unless its weight is 0), spread
 * out with the smooth weighted round-robin order so a 90/10 split does not send ten calls in a
 * row to one side. A plain round-robin over this list is a weighted round-robin over endpoints.
 * All-zero weights (a split that names none of these origins) count as equal.
 */
export function weightedSequence<T extends { readonly weight: number }>(endpoints: readonly T[], slots = 100): T[] {
  if (endpoints.length === 0) return [];
  const allZero = endpoints.every((ep) => ep.weight <= 0);
  const w = endpoints.map((ep) => (allZero ? 1 : Math.max(0, ep.weight)));
  const total = w.reduce((a, b) => a + b, 0);
  const size = Math.max(slots, endpoints.filter((_, i) => (w[i] ?? 0) > 0).length);
  const exact = w.map((x) => (x / total) * size);
  const counts = exact.map((x, i) => ((w[i] ?? 0) > 0 ? Math.max(1, Math.floor(x)) : 0));
  let left = size - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, rem: x - Math.floor(x) })).sort((a, b) => b.rem - a.rem);
  for (const { i } of order) {
    if (left <= 0) break;
    if ((w[i] ?? 0) === 0) continue;
    counts[i] = (counts[i] ?? 0) + 1;
    left--;
  }
  const n = counts.reduce((a, b) => a + b, 0);
  const current = counts.map(() => 0);
  const out: T[] = [];
  for (let k = 0; k < n; k++) {
    let best = -1;
    for (let i = 0; i < counts.length; i++) {
      current[i] = (current[i] ?? 0) + (counts[i] ?? 0);
      if (best < 0 || (current[i] ?? 0) > (current[best] ?? 0)) best = i;
    }
    current[best] = (current[best] ?? 0) - n;
    const ep = endpoints[best];
    if (ep !== undefined) out.push(ep);
  }
  return out;
}

/** The port to dial: the named one, else `grpc`, else the only one, else the lowest-named. */
export function portOf(ep: ResolvedEndpoint, name?: string): number | undefined {
  if (name !== undefined) return ep.ports[name];
  if (ep.ports['grpc'] !== undefined) return ep.ports['grpc'];
  const names = Object.keys(ep.ports).sort();
  const first = names[0];
  return first === undefined ? undefined : ep.ports[first];
}
