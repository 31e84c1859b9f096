// Mesh mode (`?mesh=true`, gRPC `filters.mesh`): a meshed caller is routed by Envoy only when it
// calls the Kubernetes Service's name, so instead of instance addresses it gets that one name.
// A Spring Cloud or Dubbo client that picks instance IPs itself bypasses the VirtualService
// split and mTLS policy (Istio sends such calls to its passthrough cluster).
import type { CatalogEntry } from '../catalog/index.ts';
import type { Endpoint, RegistryId, Route, ServicePort, ServiceRef } from '../model/index.ts';
import { mapRef, selects, toDns1035 } from '../model/index.ts';

/** Marks the one endpoint of a mesh answer, so a client can tell it from an instance. */
export const MESH_METADATA_KEY = 'isthmus.dev/mesh-host';

/** Where a service lives in a Kubernetes registry, as a mesh caller must name it. */
export interface MeshTarget {
  readonly registry: RegistryId;
  readonly host: string;
  readonly ports: readonly ServicePort[];
}

export interface MeshNamingInput {
  /** Kubernetes registries by id, with the cluster DNS domain of their Services. */
  readonly kubernetes: ReadonlyMap<RegistryId, { readonly clusterDomain: string }>;
  readonly routes: readonly Route[];
  /** The ports a registry's own snapshot of the service declares (undefined: it does not list it). */
  readonly portsIn: (registry: RegistryId, ref: ServiceRef) => readonly ServicePort[] | undefined;
}

/** Finds the mesh name of a catalog entry; undefined when no Kubernetes registry has or gets it. */
export type MeshNaming = (entry: CatalogEntry) => MeshTarget | undefined;

function hostOf(ref: ServiceRef, clusterDomain: string): string {
  // The same conversion as the Kubernetes sink's Service names (and its ServiceEntry hosts).
  return `${toDns1035(ref.name)}.${toDns1035(ref.namespace)}.svc.${clusterDomain}`;
}

/**
 * Ports of a Service the bridge writes: the service's ports, then instance ports under names not
 * yet used (registries that only know ports per instance), as the sink derives them.
 */
function importedPorts(entry: CatalogEntry, from: readonly RegistryId[]): ServicePort[] {
  const byName = new Map<string, ServicePort>();
  for (const p of entry.ports) if (!byName.has(p.name)) byName.set(p.name, p);
  for (const ep of entry.endpoints) {
    if (!from.includes(ep.origin.registry)) continue;
    for (const [name, port] of Object.entries(ep.ports)) if (!byName.has(name)) byName.set(name, { name, port });
  }
  return [...byName.values()];
}

export function meshNaming(input: MeshNamingInput): MeshNaming {
  return (entry) => {
    // A Service that a Kubernetes registry lists itself is named as it is, with its own ports
    // (the merged entry's ports may be a VM registry's instance ports).
    for (const [registry, { clusterDomain }] of input.kubernetes) {
      if (!entry.registries.includes(registry)) continue;
      const ports = input.portsIn(registry, entry.ref);
      if (ports !== undefined) return { registry, host: hostOf(entry.ref, clusterDomain), ports };
    }
    // Otherwise the Service a route writes for it, under the route's name mapping.
    for (const route of input.routes) {
      const kube = input.kubernetes.get(route.to);
      if (kube === undefined || !route.from.some((r) => entry.registries.includes(r))) continue;
      if (!selects(route.select, { ref: entry.ref, metadata: entry.metadata, ports: [], endpoints: [], origin: route.to })) continue;
      return { registry: route.to, host: hostOf(mapRef(route.map, entry.ref), kube.clusterDomain), ports: importedPorts(entry, route.from) };
    }
    return undefined;
  };
}

/**
 * The entry as a meshed caller sees it: one endpoint, the Service's DNS name with its ports,
 * ready while any instance behind it is (the mesh balances over them). Registries, metadata and
 * the revision stay the entry's, so watches and caches work as for any other view.
 */
export function meshEntry(entry: CatalogEntry, target: MeshTarget): CatalogEntry {
  const ports: Record<string, number> = {};
  for (const p of target.ports) ports[p.name] = p.port;
  const ready = entry.endpoints.some((ep) => ep.ready);
  const serving = ready || entry.endpoints.some((ep) => ep.serving);
  const endpoint: Endpoint = {
    address: target.host,
    ports,
    ready,
    serving,
    terminating: false,
    weight: 100,
    metadata: { [MESH_METADATA_KEY]: 'true' },
    origin: { registry: target.registry, nativeId: `service/${target.host}` },
  };
  return { ...entry, ports: target.ports, endpoints: [endpoint] };
}
