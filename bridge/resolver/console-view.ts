import type { CatalogEntry } from '../catalog/index.ts';
import type { RegistryId } from '../model/index.ts';
import type { BridgeStatus, TargetStatus } from '../sync/status.ts';

/** Endpoints of one origin registry within a service: the console's per-side counts. */
export interface OriginCount {
  readonly registry: RegistryId;
  readonly total: number;
  readonly ready: number;
  /** Terminating but still serving: on its way out, not yet gone. */
  readonly draining: number;
}

/** One row of the console's overview, from the catalog alone. */
export interface ConsoleService {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly registries: readonly RegistryId[];
  readonly origins: readonly OriginCount[];
}

/** What `event: catalog` carries: every service with its counts per origin registry. */
export interface ConsoleCatalog {
  readonly revision: number;
  readonly services: readonly ConsoleService[];
}

export function consoleService(entry: CatalogEntry): ConsoleService {
  const by = new Map<RegistryId, { total: number; ready: number; draining: number }>();
  for (const ep of entry.endpoints) {
    let c = by.get(ep.origin.registry);
    if (c === undefined) {
      c = { total: 0, ready: 0, draining: 0 };
      by.set(ep.origin.registry, c);
    }
    c.total++;
    if (ep.ready) c.ready++;
    if (ep.terminating && ep.serving) c.draining++;
  }
  return {
    namespace: entry.ref.namespace,
    name: entry.ref.name,
    revision: entry.revision,
    registries: entry.registries,
    origins: [...by].map(([registry, c]) => ({ registry, ...c })),
  };
}

export function consoleCatalog(revision: number, entries: readonly CatalogEntry[]): ConsoleCatalog {
  return { revision, services: entries.map(consoleService) };
}

/** What a sink last did for one service (the overview's "exported to" column). */
export interface ConsoleExport {
  readonly sink: RegistryId;
  readonly namespace: string;
  readonly name: string;
  readonly outcome: TargetStatus['outcome'];
  readonly endpoints: number;
  readonly at: number;
}

/**
 * What `event: status` carries: the engine summary as /v1/status gives it, plus every target's
 * last outcome and the kind of each registry (so the page can tell pods from VMs).
 */
export interface ConsoleStatus extends BridgeStatus {
  readonly exports: readonly ConsoleExport[];
  readonly kinds: Readonly<Record<RegistryId, string>>;
  readonly weights?: unknown;
}

export function consoleExports(targets: readonly TargetStatus[]): ConsoleExport[] {
  return targets.map((t) => ({ sink: t.sink, namespace: t.ref.namespace, name: t.ref.name, outcome: t.outcome, endpoints: t.desiredEndpoints, at: t.at }));
}
