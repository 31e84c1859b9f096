import type { ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { SinkOperation, SinkPlan, SinkState } from '../../bridge/ports/index.ts';
import { bodyKey, heldOverride, toInstance, type ExportSettings } from './encode.ts';
import { effectiveStatus, idOf, type EurekaInstance, type EurekaStatus } from './native.ts';

/** One read of what this bridge holds in one Eureka application (see `EurekaSink.read`). */
export interface EurekaState extends SinkState {
  readonly app: string;
  /** Our instances of the ref, as last registered by this process or as the server listed them. */
  readonly held: readonly EurekaInstance[];
}

/** One native write; `execute` performs them in order. */
export type EurekaWrite =
  /** POST /apps/{APP}: new, or a changed body (re-registration with a newer lastDirtyTimestamp). */
  | { readonly type: 'register'; readonly instance: EurekaInstance }
  /** PUT …/status?value=: DOWN or OUT_OF_SERVICE as an override. */
  | { readonly type: 'override'; readonly instance: EurekaInstance; readonly status: EurekaStatus }
  /** DELETE …/status?value=UP: back to UP. */
  | { readonly type: 'clear'; readonly instance: EurekaInstance }
  /** DELETE /apps/{APP}/{id}. */
  | { readonly type: 'cancel'; readonly instance: EurekaInstance };

export interface EurekaPlan extends SinkPlan {
  readonly ref: ServiceRef;
  readonly app: string;
  readonly writes: readonly EurekaWrite[];
  /** Every instance the ref should hold after the plan (the sink renews exactly these). */
  readonly want: readonly EurekaInstance[];
}

/**
 * The writes that turn `state` into `desired` (undefined: hold nothing). Pure. The body (ids,
 * addresses, ports, vip, lease timings, every metadata key including the markers) decides a
 * re-registration; health travels apart as the status override, so a health flip is one small
 * request and never a re-registration.
 */
export function planEureka(state: EurekaState, desired: ServiceSnapshot | undefined, s: ExportSettings): EurekaPlan {
  const want = new Map<string, EurekaInstance>();
  // Two endpoints with one address and primary port (differing in other ports) are one lease.
  for (const ep of desired?.endpoints ?? []) {
    const i = toInstance(state.ref, ep, s);
    if (!want.has(idOf(i))) want.set(idOf(i), i);
  }
  const held = new Map(state.held.map((i) => [idOf(i), i]));
  const writes: EurekaWrite[] = [];
  const operations: SinkOperation[] = [];
  for (const [id, w] of want) {
    const have = held.get(id);
    held.delete(id);
    const target = heldOverride(w);
    if (have === undefined) {
      // A fresh registration carries its override: the server keeps it (putIfAbsent).
      writes.push({ type: 'register', instance: w });
      operations.push({ verb: 'create', record: `instance ${state.app}/${id}` });
      continue;
    }
    const current = heldOverride(have);
    // Shown DOWN without an override (someone registered it so): only a re-registration as UP
    // moves it, since deleting an override that is not there changes nothing.
    const stuck = target === 'UNKNOWN' && current === 'UNKNOWN' && effectiveStatus(have) !== 'UP';
    const reregister = stuck || bodyKey(have) !== bodyKey(w);
    if (reregister) writes.push({ type: 'register', instance: w });
    if (current !== target) writes.push(target === 'UNKNOWN' ? { type: 'clear', instance: w } : { type: 'override', instance: w, status: target });
    if (reregister || current !== target) operations.push({ verb: 'update', record: `instance ${state.app}/${id}` });
  }
  for (const [id, i] of held) {
    writes.push({ type: 'cancel', instance: i });
    operations.push({ verb: 'delete', record: `instance ${state.app}/${id}` });
  }
  return { operations, ref: state.ref, app: state.app, writes, want: [...want.values()] };
}
