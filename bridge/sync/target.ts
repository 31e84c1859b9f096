import type { RegistryId, Route, ServiceRef } from '../model/index.ts';
import { mapRef, refKey } from '../model/index.ts';

/** A reconcile key: one service in one sink. Every route into that sink contributes to it. */
export interface Target {
  readonly sink: RegistryId;
  readonly ref: ServiceRef;
}

/**
 * `sink|namespace/name`: a map key only, never parsed back (names are data from registries, and
 * a key is looked up in the engine's target table instead).
 */
export function targetKey(t: Target): string {
  return `${t.sink}|${refKey(t.ref)}`;
}

/** A source-side service that may feed a target through a route. */
export interface Contributor {
  readonly route: Route;
  readonly source: RegistryId;
  readonly ref: ServiceRef;
}

/**
 * Which source services may feed each target, and the target behind each key. Name maps are
 * not invertible (two namespaces can map onto one), so the engine remembers every source ref it
 * has been nudged about. Entries are hints: the reconciler re-reads each source, and a
 * contributor whose source no longer has the ref is pruned, so the index shrinks back when
 * services leave every source.
 */
export class ContributorIndex {
  readonly #byTarget = new Map<string, { readonly target: Target; readonly contributors: Map<string, Contributor & { readonly order: number }> }>();

  /** Records that `ref` in `source` feeds its mapped target through each route; returns the targets. */
  note(routes: readonly Route[], source: RegistryId, ref: ServiceRef): { key: string; target: Target }[] {
    const out: { key: string; target: Target }[] = [];
    for (const [index, route] of routes.entries()) {
      const position = route.from.indexOf(source);
      if (position < 0) continue;
      const target = { sink: route.to, ref: mapRef(route.map, ref) };
      const key = targetKey(target);
      let entry = this.#byTarget.get(key);
      if (entry === undefined) {
        entry = { target, contributors: new Map() };
        this.#byTarget.set(key, entry);
      }
      entry.contributors.set(contributorKey(route.id, source, ref), { route, source, ref, order: index * 1000 + position });
      out.push({ key, target: entry.target });
    }
    return out;
  }

  /** The contributors of a target in config order: route order, then each route's `from` order. */
  get(key: string): Contributor[] {
    return [...(this.#byTarget.get(key)?.contributors.values() ?? [])].sort((a, b) => a.order - b.order || refKey(a.ref).localeCompare(refKey(b.ref)));
  }

  target(key: string): Target | undefined {
    return this.#byTarget.get(key)?.target;
  }

  prune(key: string, c: Contributor): void {
    const entry = this.#byTarget.get(key);
    if (entry === undefined) return;
    entry.contributors.delete(contributorKey(c.route.id, c.source, c.ref));
    if (entry.contributors.size === 0) this.#byTarget.delete(key);
  }

  keys(): IterableIterator<string> {
    return this.#byTarget.keys();
  }

  get size(): number {
    return this.#byTarget.size;
  }
}

function contributorKey(route: string, source: RegistryId, ref: ServiceRef): string {
  return `${route}|${source}|${refKey(ref)}`;
}
