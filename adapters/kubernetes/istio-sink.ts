// The I/O half of the Istio mode, used by KubernetesSink: which services use it, one read of a
// service's Istio objects, executing an Istio plan, and listing what we own for resync and
// cleanup. Reads go to the API (no watched view of Istio objects yet: README "Istio mode").
import type { ServiceRef } from '../../bridge/model/index.ts';
import { globToRegExp } from '../../bridge/model/index.ts';
import type { CustomResource, KubeClient } from './client.ts';
import type { IstioPlan, IstioState } from './istio-plan.ts';
import { ownsIstio } from './istio-plan.ts';
import { readPodSubset } from './istio-pods.ts';
import { ISTIO, routingName } from './istio-render.ts';
import { DESTINATION_RULES, type IstioObject, type KDestinationRule, type KServiceEntry, type KVirtualService, type KWorkloadEntry, SERVICE_ENTRIES, VIRTUAL_SERVICES, WORKLOAD_ENTRIES } from './istio-types.ts';
import { K8S } from './markers.ts';
import type { IstioOptions } from './options.ts';
import type { SliceOwner } from './slices.ts';
import type { ObjectMeta } from './types.ts';

/** Every Istio kind we write, in the order their deletes are safe (routing first, entries last). */
export const ISTIO_KINDS: readonly CustomResource[] = [VIRTUAL_SERVICES, DESTINATION_RULES, SERVICE_ENTRIES, WORKLOAD_ENTRIES];

/** Whether `ref` (original names) is imported in the Istio mode; pure. */
export function istioModeFor(ref: ServiceRef, options: IstioOptions): boolean {
  if (!options.enabled) return false;
  const full = `${ref.namespace}/${ref.name}`;
  return options.services.some((g) => globToRegExp(g).test(ref.name) || globToRegExp(g).test(full));
}

/**
 * One read of the Istio objects of one service: our entries by label, the routing objects by
 * name, and — with `podSelector` (istio-pods.ts: a Service-selected service in the Istio mode,
 * the only kind that gets a VirtualService) — whether a pod carries the pod subset labels.
 */
export async function readIstio(client: KubeClient, owner: SliceOwner, bridgeId: string, options: IstioOptions, podSelector?: string): Promise<IstioState> {
  const ns = owner.namespace;
  const name = routingName(owner);
  const selector = `${K8S.managedBy}=${bridgeId},${ISTIO.service}=${owner.service}`;
  const [entries, se, dr, vs, ours, podSubset] = await Promise.all([
    client.listObjects<KWorkloadEntry>(WORKLOAD_ENTRIES, ns, selector),
    client.getObject<KServiceEntry>(SERVICE_ENTRIES, ns, name),
    client.getObject<KDestinationRule>(DESTINATION_RULES, ns, name),
    client.getObject<KVirtualService>(VIRTUAL_SERVICES, ns, name),
    options.vipCidr === undefined ? undefined : client.listObjects<KServiceEntry>(SERVICE_ENTRIES, ns, `${K8S.managedBy}=${bridgeId}`),
    podSelector === undefined ? undefined : readPodSubset(client, ns, podSelector),
  ]);
  const mine = entries.items.filter((we) => ownsIstio(we, owner, bridgeId));
  const usedVips = (ours?.items ?? []).filter((o) => o.metadata?.name !== name).flatMap((o) => o.spec?.addresses ?? []);
  return { entries: mine, serviceEntry: se, destinationRule: dr, virtualService: vs, usedVips, ...(podSubset === undefined ? {} : { podSubset }) };
}

/** Creates and updates in plan order (entries before the objects that route to them), then deletes. */
export async function executeIstio(client: KubeClient, plan: IstioPlan): Promise<void> {
  const entries = plan.upserts.filter((w) => w.resource === WORKLOAD_ENTRIES);
  await Promise.all(entries.map((w) => (w.verb === 'create' ? client.createObject(w.resource, w.body) : client.replaceObject(w.resource, w.body))));
  for (const w of plan.upserts) {
    if (w.resource === WORKLOAD_ENTRIES) continue;
    await (w.verb === 'create' ? client.createObject(w.resource, w.body) : client.replaceObject(w.resource, w.body));
  }
  const gone = plan.deletes.filter((w) => w.resource === WORKLOAD_ENTRIES);
  for (const w of plan.deletes) if (w.resource !== WORKLOAD_ENTRIES) await client.deleteObject(w.resource, w.body.metadata ?? {});
  await Promise.all(gone.map((w) => client.deleteObject(w.resource, w.body.metadata ?? {})));
}

/** Metadata of every Istio object this bridge owns in `scopes` (undefined = cluster-wide). */
export async function ownedIstioObjects(client: KubeClient, scopes: readonly (string | undefined)[], bridgeId: string): Promise<ObjectMeta[]> {
  const selector = `${K8S.managedBy}=${bridgeId}`;
  const lists = await Promise.all(scopes.flatMap((ns) => ISTIO_KINDS.map((r) => client.listObjects<IstioObject<unknown>>(r, ns, selector))));
  return lists.flatMap((l) => l.items.map((o) => o.metadata ?? {}));
}
