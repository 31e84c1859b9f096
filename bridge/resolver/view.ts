import type { CatalogEntry } from '../catalog/index.ts';
import type { RegistryId } from '../model/index.ts';
import { meshEntry, type MeshNaming } from './mesh.ts';
import type { EndpointFilters } from './params.ts';

/** One line of `GET /v1/services`: counts only, so the list stays small at 10k services. */
export interface ServiceSummary {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly endpoints: number;
  readonly ready: number;
  readonly registries: readonly RegistryId[];
}

export interface ServiceList {
  /** Catalog-wide revision the list was taken at. */
  readonly revision: number;
  readonly services: readonly ServiceSummary[];
}

export function summarize(entry: CatalogEntry): ServiceSummary {
  let ready = 0;
  for (const ep of entry.endpoints) if (ep.ready) ready++;
  return {
    namespace: entry.ref.namespace,
    name: entry.ref.name,
    revision: entry.revision,
    endpoints: entry.endpoints.length,
    ready,
    registries: entry.registries,
  };
}

function isUnfiltered(f: EndpointFilters): boolean {
  return !f.healthy && f.origin === undefined && f.zone === undefined;
}

/**
 * The entry as a caller asked to see it: filtered, then, in mesh mode, the instances left become
 * the one mesh name (none left: no endpoint). A service no Kubernetes registry has or gets keeps
 * its instances, which a meshed caller still reaches (Istio's passthrough), unrouted.
 */
export function viewEntry(entry: CatalogEntry, f: EndpointFilters, mesh: MeshNaming | undefined): CatalogEntry {
  const filtered = filterEntry(entry, f);
  if (!f.mesh || mesh === undefined) return filtered;
  const target = mesh(entry);
  if (target === undefined) return filtered;
  return filtered.endpoints.length === 0 ? { ...filtered, ports: target.ports } : meshEntry(filtered, target);
}

/**
 * The entry as a caller asked to see it. Filters narrow the endpoints only: ports, registries and
 * metadata describe the service and stay whole, and the revision stays the entry's so a filtered
 * watcher uses the same index as everyone else.
 */
export function filterEntry(entry: CatalogEntry, f: EndpointFilters): CatalogEntry {
  if (isUnfiltered(f)) return entry;
  const endpoints = entry.endpoints.filter(
    (ep) =>
      (!f.healthy || ep.ready) &&
      (f.origin === undefined || ep.origin.registry === f.origin) &&
      (f.zone === undefined || ep.zone === f.zone),
  );
  return { ...entry, endpoints };
}
