// Pure planning of the Istio mode: what was read (our WorkloadEntries of the service, the
// routing objects of our name, the VIPs our other ServiceEntries hold) + the desired snapshot →
// the fewest writes. Same rules as the EndpointSlice plan: only objects carrying this bridge's
// id and original name are changed, a name someone else holds is a collision, and an in-sync
// service plans nothing.
import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, RegistryId, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey } from '../../bridge/model/index.ts';
import type { SinkOperation, SinkRefusal } from '../../bridge/ports/index.ts';
import type { Split } from '../../bridge/sync/split.ts';
import type { CustomResource } from './client.ts';
import { type PodSubset, podSubsetNotice } from './istio-pods.ts';
import { DESTINATION_RULES, type IstioObject, type KDestinationRule, type KServiceEntry, type KVirtualService, type KWorkloadEntry, SERVICE_ENTRIES, VIRTUAL_SERVICES, WORKLOAD_ENTRIES } from './istio-types.ts';
import { ISTIO, istioFingerprint, modelWeight, renderDestinationRule, renderServiceEntry, renderVirtualService, renderWorkloadEntry, routingName, serviceEntryPorts, sideWeights, withdrawn, workloadLabels } from './istio-render.ts';
import { allocateVip, inCidr, parseCidr } from './istio-vip.ts';
import { isOwnedBy, K8S } from './markers.ts';
import type { IstioOptions, KubernetesSinkOptions } from './options.ts';
import { importedPorts, mayJoin } from './service-shape.ts';
import type { SliceOwner } from './slices.ts';
import type { KService } from './types.ts';

/** One read of the Istio objects of one service. */
export interface IstioState {
  /** Our WorkloadEntries written for this original name. */
  readonly entries: readonly KWorkloadEntry[];
  /** The objects of our routing name, whoever owns them. */
  readonly serviceEntry: KServiceEntry | undefined;
  readonly destinationRule: KDestinationRule | undefined;
  readonly virtualService: KVirtualService | undefined;
  /** Addresses our other ServiceEntries in the namespace hold (read only when vipCidr is set). */
  readonly usedVips: readonly string[];
  /**
   * Whether a pod of the app's Service carries `podSubsetLabels`; read only for a Service-selected
   * service in the Istio mode (where a VirtualService may be written), undefined elsewhere.
   */
  readonly podSubset?: PodSubset;
}

export interface IstioWrite {
  readonly resource: CustomResource;
  readonly kind: string;
  readonly body: IstioObject<unknown>;
}

/** Writes in execute order: upserts entries → ServiceEntry → DestinationRule → VirtualService, deletes the reverse. */
export interface IstioPlan {
  readonly upserts: readonly (IstioWrite & { readonly verb: 'create' | 'update' })[];
  readonly deletes: readonly IstioWrite[];
  readonly operations: readonly SinkOperation[];
  readonly refused: readonly { readonly endpoint: Endpoint; readonly reason: string }[];
  /** Service-level parts of the desired state not written as asked (the pod subset), with why. */
  readonly notices: readonly SinkRefusal[];
}

export interface IstioPlanContext {
  readonly bridgeId: string;
  /** The sink's registry id: the pod side of a split. */
  readonly sinkId: RegistryId;
  readonly options: IstioOptions;
  readonly mixed: KubernetesSinkOptions['mixed'];
  readonly split: Split | undefined;
}

/** Written by this bridge for exactly this original name. */
export function ownsIstio(obj: IstioObject<unknown> | undefined, owner: SliceOwner, bridgeId: string): boolean {
  return obj !== undefined && isOwnedBy(obj.metadata, bridgeId) && obj.metadata?.annotations?.[K8S.originalName] === owner.originalName;
}

/** Our WorkloadEntries as model endpoints (ready: only ready instances are written). */
export function istioEndpoints(state: IstioState): Endpoint[] {
  return state.entries.map((we) => {
    const zone = we.spec?.locality?.split('/')[1] ?? we.spec?.locality;
    return {
      address: we.spec?.address ?? '',
      ports: { ...(we.spec?.ports ?? {}) },
      ready: true,
      serving: true,
      terminating: false,
      weight: modelWeight(we.spec?.weight),
      ...(zone === undefined || zone === '' ? {} : { zone }),
      metadata: {},
      origin: { registry: we.metadata?.labels?.[K8S.origin] ?? '', nativeId: we.metadata?.annotations?.[ISTIO.originId] ?? '' },
    };
  });
}

/** Whether anything of the service is ours in Istio objects. */
export function ownsAnyIstio(state: IstioState, owner: SliceOwner, bridgeId: string): boolean {
  return state.entries.length > 0 || [state.serviceEntry, state.destinationRule, state.virtualService].some((o) => ownsIstio(o, owner, bridgeId));
}

/**
 * The selector that picks our WorkloadEntries, when the app has a Kubernetes Service with one;
 * undefined when the service is VM-only (no Service, or only our own selectorless one), which
 * gets a ServiceEntry instead. A Service someone else owns without a selector cannot select
 * WorkloadEntries: a collision, as is one whose owner did not agree (the `mixed` rule).
 */
export function meshSelector(svc: KService | undefined, owner: SliceOwner, ctx: Pick<IstioPlanContext, 'bridgeId' | 'mixed'>): Record<string, string> | undefined {
  if (svc === undefined || isOwnedBy(svc.metadata, ctx.bridgeId)) return undefined;
  const selector = svc.spec?.selector ?? {};
  const where = `kubernetes: Service ${owner.namespace}/${owner.service} for ${owner.originalName}`;
  if (Object.keys(selector).length === 0) {
    throw new BridgeError('ISTHMUS_NAME_COLLISION', `${where} exists without a selector and is not ours: Istio cannot route it to WorkloadEntries`, { terminal: true, details: { namespace: owner.namespace, service: owner.service } });
  }
  if (!mayJoin(svc, ctx.mixed)) {
    throw new BridgeError('ISTHMUS_NAME_COLLISION', `${where} is not ours (mixed mode is ${ctx.mixed}; annotate it ${K8S.acceptImports}: "true" to add VM WorkloadEntries)`, { terminal: true, details: { namespace: owner.namespace, service: owner.service } });
  }
  return selector;
}

function record(w: IstioWrite): string {
  return `${w.kind} ${w.body.metadata?.namespace ?? ''}/${w.body.metadata?.name ?? ''}`;
}

/** The Istio writes for one service; `desired` undefined removes every object of ours. */
export function planIstio(owner: SliceOwner, svc: KService | undefined, state: IstioState, desired: ServiceSnapshot | undefined, ctx: IstioPlanContext): IstioPlan {
  const upserts: (IstioWrite & { verb: 'create' | 'update' })[] = [];
  const deletes: IstioWrite[] = [];
  const refused: { endpoint: Endpoint; reason: string }[] = [];
  const existing = { se: state.serviceEntry, dr: state.destinationRule, vs: state.virtualService };
  // An object of our routing name that is not ours for this service: never overwritten.
  for (const obj of Object.values(existing)) {
    if (obj !== undefined && !ownsIstio(obj, owner, ctx.bridgeId) && desired !== undefined) {
      const holder = obj.metadata?.annotations?.[K8S.originalName] ?? 'an object not managed by this bridge';
      throw new BridgeError('ISTHMUS_NAME_COLLISION', `kubernetes: ${obj.kind ?? 'Istio object'} ${owner.namespace}/${routingName(owner)} for ${refKey({ namespace: owner.originalNamespace, name: owner.originalName })} is held by ${holder}`, { terminal: true, details: { namespace: owner.namespace, name: routingName(owner), heldBy: holder } });
    }
  }
  const put = (resource: CustomResource, kind: string, rendered: IstioObject<unknown>, actual: IstioObject<unknown> | undefined): void => {
    if (actual === undefined) {
      upserts.push({ resource, kind, body: rendered, verb: 'create' });
      return;
    }
    const [want, have] = istioFingerprint(rendered, actual);
    if (want === have) return;
    // Keep labels/annotations others added and the resourceVersion (a concurrent edit is a 409).
    const meta = { ...actual.metadata, ...rendered.metadata, labels: { ...actual.metadata?.labels, ...rendered.metadata?.labels }, annotations: { ...actual.metadata?.annotations, ...rendered.metadata?.annotations } };
    upserts.push({ resource, kind, body: { ...rendered, metadata: meta }, verb: 'update' });
  };
  const drop = (resource: CustomResource, kind: string, actual: IstioObject<unknown> | undefined): void => {
    if (actual !== undefined && ownsIstio(actual, owner, ctx.bridgeId)) deletes.push({ resource, kind, body: actual });
  };

  if (desired === undefined) {
    drop(VIRTUAL_SERVICES, 'VirtualService', existing.vs);
    drop(DESTINATION_RULES, 'DestinationRule', existing.dr);
    drop(SERVICE_ENTRIES, 'ServiceEntry', existing.se);
    for (const we of state.entries) drop(WORKLOAD_ENTRIES, 'WorkloadEntry', we);
    return finish(upserts, deletes, refused, []);
  }

  const selector = meshSelector(svc, owner, ctx);
  const labels = workloadLabels(owner, selector);
  const servicePorts = selector === undefined ? undefined : (svc?.spec?.ports ?? []);
  const wanted = new Map<string, KWorkloadEntry>();
  for (const ep of desired.endpoints) {
    if (withdrawn(ep) !== undefined) continue; // the mesh has no not-ready entry: withdrawn, not refused
    const we = renderWorkloadEntry(owner, ep, labels, ctx.options, servicePorts);
    if ('refused' in we) refused.push({ endpoint: ep, reason: we.refused });
    else wanted.set(we.metadata?.name ?? '', we);
  }
  const have = new Map(state.entries.map((we) => [we.metadata?.name ?? '', we]));
  for (const [name, we] of wanted) put(WORKLOAD_ENTRIES, 'WorkloadEntry', we, have.get(name));

  if (selector === undefined) {
    const ports = serviceEntryPorts(importedPorts(desired), desired.endpoints[0]?.protocol);
    // No port (no instance yet, or all gone): the ServiceEntry is kept as it is, not deleted —
    // adding or removing one is a full push to every sidecar.
    if (ports.length > 0) put(SERVICE_ENTRIES, 'ServiceEntry', renderServiceEntry(owner, desired.origin, ports, labels, ctx.options, vipFor(owner, ports, state, ctx.options)), existing.se);
  } else {
    drop(SERVICE_ENTRIES, 'ServiceEntry', existing.se); // the Service's host now: ours would shadow it
  }
  put(DESTINATION_RULES, 'DestinationRule', renderDestinationRule(owner, desired.origin, ctx.options), existing.dr);
  const weights = selector === undefined ? undefined : sideWeights(ctx.split, ctx.sinkId, desired.endpoints);
  // No pod carries the subset labels: the pod share goes where it cannot fail, and status says so.
  const notice = weights === undefined ? undefined : podSubsetNotice(owner, ctx.options.podSubsetLabels, weights.k8s, state.podSubset);
  if (weights === undefined) drop(VIRTUAL_SERVICES, 'VirtualService', existing.vs);
  else put(VIRTUAL_SERVICES, 'VirtualService', renderVirtualService(owner, desired.origin, weights, ctx.options, notice === undefined), existing.vs);
  for (const [name, we] of have) if (!wanted.has(name)) drop(WORKLOAD_ENTRIES, 'WorkloadEntry', we);
  return finish(upserts, deletes, refused, notice === undefined ? [] : [notice]);
}

/**
 * The ServiceEntry address: kept while it is still in the CIDR (a VIP that moves breaks every
 * open connection), else allocated; none without TCP ports or without `vipCidr`.
 */
function vipFor(owner: SliceOwner, ports: readonly { protocol?: string }[], state: IstioState, options: IstioOptions): string | undefined {
  if (options.vipCidr === undefined || !ports.some((p) => p.protocol === 'TCP')) return undefined;
  const cidr = parseCidr(options.vipCidr);
  if ('problem' in cidr) throw new BridgeError('ISTHMUS_CONFIG_INVALID', `kubernetes: sink.istio.vipCidr: ${cidr.problem}`, { terminal: true });
  const current = state.serviceEntry?.spec?.addresses?.[0];
  if (current !== undefined && inCidr(current, cidr)) return current;
  return allocateVip(cidr, `${owner.namespace}/${owner.service}`, new Set(state.usedVips));
}

function finish(upserts: IstioPlan['upserts'], deletes: IstioPlan['deletes'], refused: IstioPlan['refused'], notices: IstioPlan['notices']): IstioPlan {
  const operations: SinkOperation[] = [...upserts.map((w) => ({ verb: w.verb, record: record(w) })), ...deletes.map((w) => ({ verb: 'delete' as const, record: record(w) }))];
  return { upserts, deletes, operations, refused, notices };
}

