import type { ServicePort, ServiceSnapshot } from '../../bridge/model/index.ts';
import { K8S } from './markers.ts';
import type { KubernetesSinkOptions } from './options.ts';
import type { SliceOwner } from './slices.ts';
import type { KService } from './types.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Whether a Service can hold this port: a DNS-label name and a TCP port number. */
function holdable(name: string, port: number): boolean {
  return name.length <= 63 && DNS_LABEL.test(name) && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * Ports of the imported Service: the snapshot's, else the union of endpoint port names (a VM
 * registry often knows ports only per instance). Pure; sorted so the result is stable. Ports the
 * API server would refuse (a name that is not a DNS label, a number outside 1-65535, a number
 * already used: Service ports are unique per protocol) are left out, so one odd instance cannot
 * make the whole Service unwritable; its endpoints are refused by the slice plan.
 */
export function importedPorts(snapshot: Pick<ServiceSnapshot, 'ports' | 'endpoints'>): ServicePort[] {
  const byName = new Map<string, ServicePort>();
  const numbers = new Set<number>();
  const add = (name: string, port: number): void => {
    if (byName.has(name) || numbers.has(port) || !holdable(name, port)) return;
    byName.set(name, { name, port });
    numbers.add(port);
  };
  for (const p of snapshot.ports) add(p.name, p.port);
  for (const ep of snapshot.endpoints) for (const [name, port] of Object.entries(ep.ports)) add(name, port);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The selectorless Service for an imported service; `base` keeps server-owned fields. */
export function renderService(owner: SliceOwner, origin: string, ports: readonly ServicePort[], type: KubernetesSinkOptions['serviceType'], base?: KService): KService {
  // A selector added by hand would let the EndpointSlice controller write into our Service.
  const { selector: _selector, ...spec } = base?.spec ?? {};
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
      ...spec,
      type: 'ClusterIP',
      ...(type === 'Headless' && base === undefined ? { clusterIP: 'None' } : {}),
      // Selectorless headless Services need port == targetPort; keeping them equal everywhere
      // means the slice ports (the real instance ports) decide where traffic goes.
      ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: 'TCP' })),
    },
  };
}

/** Everything we render on a Service (labels, annotations, ports, type, no selector); equal = no write. */
export function serviceFingerprint(svc: KService): string {
  const labels = svc.metadata?.labels ?? {};
  const ann = svc.metadata?.annotations ?? {};
  return JSON.stringify([
    [K8S.managedBy, K8S.origin].map((k) => labels[k] ?? null),
    [K8S.managedBy, K8S.originalName, K8S.originalNamespace].map((k) => ann[k] ?? null),
    (svc.spec?.ports ?? []).map((p) => [p.name ?? '', p.port, Number(p.targetPort ?? p.port), p.protocol ?? 'TCP']),
    svc.spec?.type ?? 'ClusterIP',
    svc.spec?.selector ?? null,
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
