import type { ServicePort, ServiceSnapshot } from './snapshot.ts';

/**
 * The service-level shape of several snapshots of one service, merged with one precedence
 * everywhere (the sync engine's desired state and the resolver's catalog alike): snapshots come
 * in config order — routes in the order written, and within a route its `from` list; registries
 * in the order they are declared — and the first one to name a port or a metadata key wins.
 * A later registry fills in what earlier ones do not say; it never overrides them.
 */
export function mergeShape(snapshots: Iterable<Pick<ServiceSnapshot, 'ports' | 'metadata'>>): { ports: ServicePort[]; metadata: Record<string, string> } {
  const ports = new Map<string, ServicePort>();
  const metadata: Record<string, string> = {};
  for (const snap of snapshots) {
    for (const p of snap.ports) if (!ports.has(p.name)) ports.set(p.name, p);
    for (const [k, v] of Object.entries(snap.metadata)) if (!Object.prototype.hasOwnProperty.call(metadata, k)) metadata[k] = v;
  }
  return { ports: [...ports.values()], metadata };
}
