import type { ServicePort, ServiceSnapshot } from '../../bridge/model/index.ts';
import { K8S } from './markers.ts';
import type { KubernetesSinkOptions } from './options.ts';
import type { SliceOwner } from './slices.ts';
import type { KService } from './types.ts';

/**
 * Ports of the imported Service: the snapshot's, else the union of endpoint port names (a VM
 * registry often knows ports only per instance). Pure; sorted so the result is stable.
 */
export function importedPorts(snapshot: Pick<ServiceSnapshot, 'ports' | 'endpoints'>): ServicePort[] {
  const byName = new Map<string, ServicePort>();
  for (const p of snapshot.ports) if (!byName.has(p.name)) byName.set(p.name, { name: p.name, port: p.port });
  for (const ep of snapshot.endpoints) {
    for (const [name, port] of Object.entries(ep.ports)) if (!byName.has(name)) byName.set(name, { name, port });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The selectorless Service for an imported service; `base` keeps server-owned fields. */
export function renderService(owner: SliceOwner, origin: string, ports: readonly ServicePort[], type: KubernetesSinkOptions['serviceType'], base?: KService): KService {
  return {
    metadata: {
      ...(base?.metadata ?? {}),
      name: owner.service,
      namespace: owner.namespace,
      labels: { ...(base?.metadata?.labels ?? {}), [K8S.managedBy]: owner.bridgeId, [K8S.origin]: origin },
      annotations: {
        ...(base?.metadata?.annotations ?? {}),
        [K8S.managedBy]: owner.bridgeId,
        [K8S.originalName]: owner.originalName,
        [K8S.originalNamespace]: owner.originalNamespace,
      },
    },
    spec: {
      ...(base?.spec ?? {}),
      type: 'ClusterIP',
      ...(type === 'Headless' && base === undefined ? { clusterIP: 'None' } : {}),
      // Selectorless headless Services need port == targetPort; keeping them equal everywhere
      // means the slice ports (the real instance ports) decide where traffic goes.
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
    },
  };
}

/** Fields we set on a Service; a Service whose fingerprint matches needs no write. */
export function serviceFingerprint(svc: KService): string {
  const labels = svc.metadata?.labels ?? {};
  const ann = svc.metadata?.annotations ?? {};
  return JSON.stringify([
    [K8S.managedBy, K8S.origin].map((k) => labels[k] ?? null),
    [K8S.managedBy, K8S.originalName, K8S.originalNamespace].map((k) => ann[k] ?? null),
    (svc.spec?.ports ?? []).map((p) => [p.name ?? '', p.port, Number(p.targetPort ?? p.port), p.protocol ?? 'TCP']),
  ]);
}

/** Ports of an existing Service, as the model sees them (observe). */
export function servicePorts(svc: KService): ServicePort[] {
  return (svc.spec?.ports ?? []).map((p) => ({ name: p.name === undefined || p.name === '' ? 'default' : p.name, port: p.port }));
}

/** Whether our slices may join a Service we did not create (mixed mode, DESIGN §6). */
export function mayJoin(svc: KService, mixed: KubernetesSinkOptions['mixed']): boolean {
  if (mixed === 'always') return true;
  if (mixed === 'never') return false;
  return svc.metadata?.annotations?.[K8S.acceptImports] === 'true';
}
