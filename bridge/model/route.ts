import type { ServiceSnapshot } from './snapshot.ts';
import type { RegistryId, ServiceRef } from './service-ref.ts';

/** Which services of the sources a route carries. Every given criterion must match. */
export interface Selector {
  /** Canonical namespaces; absent = all. */
  readonly namespaces?: readonly string[];
  /** Globs (`*`, `?`) over `name` or `namespace/name`; absent = all. */
  readonly services?: readonly string[];
  /** Service metadata that must be present with these values (K8s labels/annotations, tags, Meta). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** How a source ref becomes a target ref. */
export interface NameMap {
  readonly namespace?: string;
  readonly prefix?: string;
  readonly suffix?: string;
}

/** Deletion safety (DESIGN §4); the defaults hold, an operator opts into propagation. */
export interface DeleteGuard {
  /** A pass that would remove more than this share of a service's endpoints is held. */
  readonly maxShrinkPercent: number;
  /**
   * How long a held shrink waits before it is applied if the sources still agree. Without a
   * release, retiring a service's last instance would be held forever; 0 = hold until changed.
   */
  readonly holdSeconds: number;
  /** A source whose whole view went empty after having services: hold (default) or propagate. */
  readonly registryEmpty: 'hold' | 'propagate';
}

export interface RoutePolicy {
  readonly deleteGuard: DeleteGuard;
  /** Source unreachable: freeze forever (undefined) or drop its endpoints after this long. */
  readonly staleAfterSeconds?: number;
  /** Draining (serving and terminating) endpoints are written as draining; false writes them as down. */
  readonly exportDraining: boolean;
}

export interface Route {
  /** Stable name for status and metrics, e.g. `nacos->k8s`. */
  readonly id: string;
  readonly from: readonly RegistryId[];
  readonly to: RegistryId;
  readonly select: Selector;
  readonly map: NameMap;
  readonly policy: RoutePolicy;
}

export const DEFAULT_POLICY: RoutePolicy = {
  deleteGuard: { maxShrinkPercent: 50, holdSeconds: 60, registryEmpty: 'hold' },
  exportDraining: true,
};

export function mapRef(map: NameMap, ref: ServiceRef): ServiceRef {
  return {
    namespace: map.namespace ?? ref.namespace,
    name: `${map.prefix ?? ''}${ref.name}${map.suffix ?? ''}`,
  };
}

export function selects(selector: Selector, snapshot: ServiceSnapshot): boolean {
  const { ref } = snapshot;
  if (selector.namespaces !== undefined && !selector.namespaces.includes(ref.namespace)) return false;
  if (selector.services !== undefined) {
    const full = `${ref.namespace}/${ref.name}`;
    const hit = selector.services.some((g) => {
      const re = globToRegExp(g);
      return re.test(ref.name) || re.test(full);
    });
    if (!hit) return false;
  }
  if (selector.metadata !== undefined) {
    for (const [k, v] of Object.entries(selector.metadata)) {
      if (snapshot.metadata[k] !== v) return false;
    }
  }
  return true;
}

const globCache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = globCache.get(glob);
  if (re === undefined) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    globCache.set(glob, re);
  }
  return re;
}
