import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey, refKey, refProblem, toDns1035 } from '../../bridge/model/index.ts';
import type { SinkOperation, SinkPlan, SinkState } from '../../bridge/ports/index.ts';
import { isOwnedBy, K8S } from './markers.ts';
import type { KubernetesSinkOptions } from './options.ts';
import { importedPorts, mayJoin, renderService, serviceFingerprint, servicePorts } from './service-shape.ts';
import { planSlices, type SliceOwner, sliceEndpoints } from './slices.ts';
import type { KEndpointSlice, KService, ObjectMeta } from './types.ts';
import type { IstioPlan, IstioState } from './istio-plan.ts';

/** One read of one imported service: the Service of the target name and this bridge's slices of it. */
export interface KubeSinkState extends SinkState {
  readonly owner: SliceOwner;
  /** The Service of the target name, whoever owns it (ours, or a native one in mixed mode). */
  readonly svc: KService | undefined;
  /** This bridge's slices of that Service written for this original name. */
  readonly slices: readonly KEndpointSlice[];
  /** This bridge's slices of that Service written for another original name: a collision. */
  readonly foreign: readonly KEndpointSlice[];
  /** The service's Istio objects; read only while the Istio mode is enabled. */
  readonly istio?: IstioState;
}

/** The writes for one service, in the order execute performs them. */
export interface KubeSinkPlan extends SinkPlan {
  readonly ref: ServiceRef;
  readonly owner: SliceOwner;
  /** True when nothing is desired: every owned record goes, and the name claim is released. */
  readonly removal: boolean;
  readonly service?: { readonly verb: 'create' | 'update'; readonly body: KService };
  readonly createSlices: readonly KEndpointSlice[];
  readonly updateSlices: readonly KEndpointSlice[];
  readonly deleteSlices: readonly KEndpointSlice[];
  readonly deleteService?: ObjectMeta;
  /** Desired endpoints a slice cannot hold, with why (recorded by execute, never written). */
  readonly refused: readonly { readonly endpoint: Endpoint; readonly reason: string }[];
  /** The Istio mode's writes (present while the mode is enabled, also to remove its objects). */
  readonly istio?: IstioPlan;
}

/** What planning needs besides the read state; all of it plain values, so planning stays pure. */
export interface PlanContext {
  readonly bridgeId: string;
  readonly options: Pick<KubernetesSinkOptions, 'mixed' | 'serviceType' | 'maxEndpointsPerSlice'>;
  /** The ref that holds the target name in this process, if another one does. */
  readonly heldBy: string | undefined;
}

/**
 * Where a ref is imported: namespace and Service name converted to DNS-1035, the originals kept
 * for the annotations. Refuses (terminal) a ref the model cannot carry — an empty name would
 * address the collection instead of an object — and a namespace outside the configured ones.
 */
export function ownerOf(ref: ServiceRef, bridgeId: string, namespaces: readonly string[]): SliceOwner {
  const problem = refProblem(ref);
  if (problem !== undefined) throw new BridgeError('ISTHMUS_RECORD_INVALID', `kubernetes: cannot import ${JSON.stringify(refKey(ref).slice(0, 120))}: ${problem}`, { terminal: true });
  const namespace = toDns1035(ref.namespace);
  if (namespaces.length > 0 && !namespaces.includes(namespace)) {
    throw new BridgeError('ISTHMUS_REGISTRY_REJECTED', `kubernetes: namespace ${namespace} (for ${refKey(ref)}) is outside the configured namespaces`, { terminal: true });
  }
  return { bridgeId, namespace, service: toDns1035(ref.name), originalName: ref.name, originalNamespace: ref.namespace };
}

/** Our Service for exactly this original name (a hash collision or a rename is not ours). */
export function ownsService(svc: KService, owner: SliceOwner, bridgeId: string): boolean {
  return isOwnedBy(svc.metadata, bridgeId) && svc.metadata?.annotations?.[K8S.originalName] === owner.originalName;
}

/**
 * What this bridge owns of the ref, in model form; undefined when nothing is. `origin` is the one
 * our Service is labelled with, so a plan made from `observed` itself (the engine does that while
 * it holds a removal) renders the Service unchanged.
 */
export function observedOf(state: Omit<KubeSinkState, 'observed'>, bridgeId: string, registry: RegistryId): ServiceSnapshot | undefined {
  const { svc, slices, owner } = state;
  const ours = svc !== undefined && ownsService(svc, owner, bridgeId);
  if (!ours && slices.length === 0) return undefined;
  const endpoints = slices.flatMap(sliceEndpoints).sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
  const origin = (ours ? svc.metadata?.labels?.[K8S.origin] : undefined) ?? registry;
  return { ref: state.ref, ports: svc === undefined ? [] : servicePorts(svc), endpoints, metadata: {}, origin };
}

/**
 * Read state + desired → the fewest writes. Pure: it throws the collision errors (terminal)
 * instead of writing into a Service that belongs to another original name or to nobody who
 * agreed, and otherwise compares everything the sink renders (Service labels, annotations,
 * ports; every slice field) so that an in-sync service plans nothing.
 */
export function planImport(state: KubeSinkState, desired: ServiceSnapshot | undefined, ctx: PlanContext): KubeSinkPlan {
  const { owner, svc, slices } = state;
  const target = `${owner.namespace}/${owner.service}`;
  const ops: SinkOperation[] = [];
  if (desired === undefined) {
    const deleteService = svc !== undefined && ownsService(svc, owner, ctx.bridgeId) ? (svc.metadata ?? {}) : undefined;
    for (const s of slices) ops.push({ verb: 'delete', record: sliceRecord(s) });
    if (deleteService !== undefined) ops.push({ verb: 'delete', record: `Service ${target}` });
    return { operations: ops, ref: state.ref, owner, removal: true, createSlices: [], updateSlices: [], deleteSlices: slices, ...(deleteService === undefined ? {} : { deleteService }), refused: [] };
  }
  if (ctx.heldBy !== undefined) {
    throw new BridgeError('ISTHMUS_NAME_COLLISION', `kubernetes: ${refKey(state.ref)} and ${ctx.heldBy} both map to Service ${target}`, { terminal: true, details: { ref: refKey(state.ref), heldBy: ctx.heldBy } });
  }
  const other = state.foreign[0]?.metadata?.annotations?.[K8S.originalName];
  if (other !== undefined) throw collision(owner, other, '');

  let service: KubeSinkPlan['service'];
  let ports = importedPorts(desired);
  // A ClusterIP Service without ports is refused (422), and would fail the slice deletes queued
  // behind it. With no port there is nothing to route: create nothing, keep an existing Service's.
  const headless = svc === undefined ? ctx.options.serviceType === 'Headless' : svc.spec?.clusterIP === 'None';
  const portless = ports.length === 0 && !headless;
  if (svc === undefined) {
    if (!portless) service = { verb: 'create', body: renderService(owner, desired.origin, ports, ctx.options.serviceType) };
  } else if (isOwnedBy(svc.metadata, ctx.bridgeId)) {
    if (!ownsService(svc, owner, ctx.bridgeId)) throw collision(owner, svc.metadata?.annotations?.[K8S.originalName] ?? 'another original name', '');
    if (portless) ports = servicePorts(svc);
    const next = renderService(owner, desired.origin, ports, ctx.options.serviceType, svc);
    if (serviceFingerprint(next) !== serviceFingerprint(svc)) service = { verb: 'update', body: next };
  } else if (!mayJoin(svc, ctx.options.mixed)) {
    const hint = ` (mixed mode is ${ctx.options.mixed}; annotate it ${K8S.acceptImports}: "true" to add imported endpoints)`;
    throw collision(owner, svc.metadata?.annotations?.[K8S.originalName] ?? 'a Service not managed by this bridge', hint);
  }
  if (service !== undefined) ops.push({ verb: service.verb, record: `Service ${target}` });

  const sp = planSlices(owner, desired.endpoints, slices, ctx.options.maxEndpointsPerSlice);
  for (const s of sp.create) ops.push({ verb: 'create', record: sliceRecord(s) });
  for (const s of sp.update) ops.push({ verb: 'update', record: sliceRecord(s) });
  for (const s of sp.delete) ops.push({ verb: 'delete', record: sliceRecord(s) });
  return {
    operations: ops,
    ref: state.ref,
    owner,
    removal: false,
    ...(service === undefined ? {} : { service }),
    createSlices: sp.create,
    updateSlices: sp.update,
    deleteSlices: sp.delete,
    refused: sp.refused,
    refusals: sp.refused.map((r) => ({ nativeId: r.endpoint.origin.nativeId, reason: r.reason })),
  };
}

function sliceRecord(slice: KEndpointSlice): string {
  return `EndpointSlice ${slice.metadata?.namespace ?? ''}/${slice.metadata?.name ?? ''}`;
}

function collision(owner: SliceOwner, holder: string, hint: string): BridgeError {
  return new BridgeError('ISTHMUS_NAME_COLLISION', `kubernetes: Service ${owner.namespace}/${owner.service} for ${owner.originalName} is held by ${holder}${hint}`, {
    terminal: true,
    details: { namespace: owner.namespace, service: owner.service, heldBy: holder },
  });
}
