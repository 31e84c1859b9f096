import type { RegistryId, Route, ServiceRef } from '../model/index.ts';
import { mapRef, parseRef, refKey } from '../model/index.ts';

/** A reconcile key: one service in one sink. Every route into that sink contributes to it. */
export interface Target {
  readonly sink: RegistryId;
  readonly ref: ServiceRef;
}

/** `sink|namespace/name`; registry ids cannot contain `|` (config restricts them to [a-z0-9-]). */
export function targetKey(t: Target): string {
  return `${t.sink}|${refKey(t.ref)}`;
}

export function parseTargetKey(key: string): Target {
  const bar = key.indexOf('|');
  const ref = parseRef(key.slice(bar + 1));
  if (bar <= 0 || ref === undefined) throw new Error(`malformed target key ${key}`);
  return { sink: key.slice(0, bar), ref };
}

/** A source-side service that may feed a target through a route. */
export interface Contributor {
  readonly route: Route;
  readonly source: RegistryId;
  readonly ref: ServiceRef;
}

/**
 * Which source services may feed each target. Name maps are not invertible (two namespaces can
 * map onto one), so the engine remembers every source ref it has been nudged about. Entries are
 * hints: the reconciler re-reads each source and prunes a contributor that no longer exists.
 */
export class ContributorIndex {
  readonly #byTarget = new Map<string, Map<string, Contributor>>();

  /** Records that `ref` in `source` feeds its mapped target through each route; returns the keys. */
  note(routes: readonly Route[], source: RegistryId, ref: ServiceRef): string[] {
    const keys: string[] = [];
    for (const route of routes) {
      if (!route.from.includes(source)) continue;
      const key = targetKey({ sink: route.to, ref: mapRef(route.map, ref) });
      let set = this.#byTarget.get(key);
      if (set === undefined) {
        set = new Map();
        this.#byTarget.set(key, set);
      }
      set.set(`${route.id}|${source}|${refKey(ref)}`, { route, source, ref });
      keys.push(key);
    }
    return keys;
  }

  get(key: string): Contributor[] {
    return [...(this.#byTarget.get(key)?.values() ?? [])];
  }

  prune(key: string, c: Contributor): void {
    const set = this.#byTarget.get(key);
    if (set === undefined) return;
    set.delete(`${c.route.id}|${c.source}|${refKey(c.ref)}`);
    if (set.size === 0) this.#byTarget.delete(key);
  }

  keys(): IterableIterator<string> {
    return this.#byTarget.keys();
  }
}
