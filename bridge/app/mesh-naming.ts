import type { RegistryId } from '../model/index.ts';
import type { Source } from '../ports/index.ts';
import { meshNaming, type MeshNaming } from '../resolver/index.ts';
import type { Config } from '../runtime/index.ts';

const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** `sink.istio.clusterDomain` of a Kubernetes registry: the domain its Services and ServiceEntries live under. */
function clusterDomainOf(options: Readonly<Record<string, unknown>>): string {
  const sink = options['sink'];
  const istio = typeof sink === 'object' && sink !== null ? (sink as Record<string, unknown>)['istio'] : undefined;
  const domain = typeof istio === 'object' && istio !== null ? (istio as Record<string, unknown>)['clusterDomain'] : undefined;
  return typeof domain === 'string' && domain !== '' ? domain : DEFAULT_CLUSTER_DOMAIN;
}

/** The resolver's mesh names from the configured Kubernetes registries, routes and live sources. */
export function meshNamingOf(config: Config, sources: readonly Source[]): MeshNaming {
  const kubernetes = new Map<RegistryId, { clusterDomain: string }>();
  for (const [id, r] of Object.entries(config.registries)) if (r.kind === 'kubernetes') kubernetes.set(id, { clusterDomain: clusterDomainOf(r.options) });
  const byId = new Map(sources.map((s) => [s.id, s]));
  return meshNaming({
    kubernetes,
    routes: config.routes,
    portsIn: (registry, ref) => byId.get(registry)?.get(ref)?.ports,
  });
}
