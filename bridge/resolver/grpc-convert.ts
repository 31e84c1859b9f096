import type { CatalogEntry } from '../catalog/index.ts';
import type { Endpoint as ModelEndpoint } from '../model/index.ts';
import type {
  Endpoint,
  EndpointFilters as ProtoFilters,
  ListServicesResponse,
  Service,
} from '../../proto/gen/isthmus/v1/resolver.ts';
import type { Split } from '../sync/index.ts';
import type { EndpointFilters } from './params.ts';
import type { MeshNaming } from './mesh.ts';
import { summarize, viewEntry } from './view.ts';

/** Proto3 has no "unset" for strings: empty means "no filter", as an absent query parameter does. */
export function filtersFromProto(f: ProtoFilters | undefined): EndpointFilters {
  return {
    healthy: f?.healthy ?? false,
    mesh: f?.mesh ?? false,
    ...(f === undefined || f.origin === '' ? {} : { origin: f.origin }),
    ...(f === undefined || f.zone === '' ? {} : { zone: f.zone }),
  };
}

function endpointToProto(ep: ModelEndpoint): Endpoint {
  return {
    address: ep.address,
    ports: { ...ep.ports },
    protocol: ep.protocol ?? '',
    ready: ep.ready,
    serving: ep.serving,
    terminating: ep.terminating,
    weight: ep.weight,
    zone: ep.zone ?? '',
    node: ep.node ?? '',
    metadata: { ...ep.metadata },
    origin: { registry: ep.origin.registry, nativeId: ep.origin.nativeId },
  };
}

/** The same answer as `GET /v1/services/:ns/:name` with the same filters, as a proto message. */
export function serviceToProto(entry: CatalogEntry, filters: EndpointFilters, split: Split | undefined, mesh?: MeshNaming): Service {
  const view = viewEntry(entry, filters, mesh);
  return {
    namespace: view.ref.namespace,
    name: view.ref.name,
    revision: view.revision,
    ports: view.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? '' })),
    endpoints: view.endpoints.map(endpointToProto),
    registries: [...view.registries],
    metadata: { ...view.metadata },
    split: { ...split },
  };
}

/** The same answer as `GET /v1/services[?namespace=]`. */
export function listToProto(revision: number, entries: readonly CatalogEntry[]): ListServicesResponse {
  return { revision, services: entries.map((e) => ({ ...summarize(e), registries: [...e.registries] })) };
}
