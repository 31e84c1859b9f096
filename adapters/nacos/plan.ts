import type { ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { SinkOperation, SinkPlan, SinkState } from '../../bridge/ports/index.ts';
import { sameInstances, toInstance, type ExportSettings } from './encode.ts';
import { groupedName, instanceIdOf, type NacosInstance, type NacosName } from './native.ts';

/** One read of what this bridge holds in one Nacos service (see `NacosSink.read`). */
export interface NacosState extends SinkState {
  readonly name: NacosName;
  /** The service's kind: configured, or learnt from the server (Nacos never mixes the two). */
  readonly ephemeral: boolean;
  /** Our instances: this connection's published set, else what the server lists with our marker. */
  readonly held: readonly NacosInstance[];
  /** `held` is this connection's own publish record, the only ephemeral set we can withdraw. */
  readonly ownConnection: boolean;
}

/** One native write; `execute` performs them in order. */
export type NacosWrite =
  /** BatchInstanceRequest: replaces this connection's whole set of the service. */
  | { readonly type: 'publish'; readonly instances: readonly NacosInstance[] }
  /** An empty batch (or, on servers refusing one, a deregister): withdraws this connection's set. */
  | { readonly type: 'withdraw'; readonly held: readonly NacosInstance[] }
  | { readonly type: 'register'; readonly instance: NacosInstance }
  | { readonly type: 'deregister'; readonly instance: NacosInstance };

export interface NacosPlan extends SinkPlan {
  readonly ref: ServiceRef;
  readonly name: NacosName;
  readonly writes: readonly NacosWrite[];
}

/**
 * The writes that turn `state` into `desired` (undefined: hold nothing). Pure. Everything the
 * sink renders is in the instances compared here — ip, port, cluster, weight, healthy, enabled
 * and every metadata key including the markers — so a health flip, a weight or a metadata change
 * is one write and an unchanged service is none. Nacos keeps no service-level shape of ours
 * (ports live per instance), so there is nothing else to compare.
 */
export function planNacos(state: NacosState, desired: ServiceSnapshot | undefined, settings: ExportSettings): NacosPlan {
  const { name, held } = state;
  const want = (desired?.endpoints ?? []).map((ep) => toInstance(state.ref, ep, settings, state.ephemeral));
  const writes: NacosWrite[] = [];
  const operations: SinkOperation[] = [];
  const service = groupedName(name);
  if (state.ephemeral) {
    if (want.length === 0) {
      // Another connection's set (a replaced process still connected) cannot be withdrawn by us:
      // it goes when that connection closes.
      if (state.ownConnection && held.length > 0) {
        writes.push({ type: 'withdraw', held });
        operations.push({ verb: 'delete', record: batchRecord(service, 0) });
      }
    } else if (!sameInstances(want, held)) {
      writes.push({ type: 'publish', instances: want });
      operations.push({ verb: held.length === 0 ? 'create' : 'update', record: batchRecord(service, want.length) });
    }
    return { operations, ref: state.ref, name, writes };
  }
  const byAddr = new Map(held.map((i) => [address(i), i]));
  // Two endpoints on one ip:port (differing only in other ports) are one persistent record.
  for (const i of new Map(want.map((w) => [address(w), w])).values()) {
    const have = byAddr.get(address(i));
    byAddr.delete(address(i));
    // The server health-checks persistent instances itself: its verdict is not a difference to
    // correct (our own verdict still changes `isthmus.conditions`, so a flip is still written).
    if (have !== undefined && sameInstances([i], [{ ...have, healthy: i.healthy ?? true }])) continue;
    writes.push({ type: 'register', instance: i });
    operations.push({ verb: have === undefined ? 'create' : 'update', record: `instance ${instanceIdOf(name, i)}` });
  }
  for (const i of byAddr.values()) {
    writes.push({ type: 'deregister', instance: { ...i, ephemeral: false } });
    operations.push({ verb: 'delete', record: `instance ${instanceIdOf(name, i)}` });
  }
  return { operations, ref: state.ref, name, writes };
}

/** How `isthmus plan` names one batch write: the service and the size of the set it publishes. */
export function batchRecord(service: string, instances: number): string {
  return `ephemeral set ${service} (${instances} instance${instances === 1 ? '' : 's'})`;
}

function address(i: NacosInstance): string {
  return `${i.ip}:${i.port}`;
}
