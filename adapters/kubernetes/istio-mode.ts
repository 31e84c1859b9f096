// Joins the two import modes into one pure plan per service. Exactly one mode holds a service's
// VM instances at a time (both at once and meshed callers would see every VM twice), so the plan
// of one mode is always paired with the removal of the other's objects: switching a service
// between modes is an ordinary pass, creates before deletes.
import { BridgeError } from '../../bridge/errors/index.ts';
import type { RegistryId, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey, refKey } from '../../bridge/model/index.ts';
import type { Split } from '../../bridge/sync/split.ts';
import { istioEndpoints, type IstioState, ownsAnyIstio, planIstio } from './istio-plan.ts';
import type { IstioOptions } from './options.ts';
import { type KubeSinkPlan, type KubeSinkState, type PlanContext, planImport } from './sink-plan.ts';

const NOTHING: IstioState = { entries: [], serviceEntry: undefined, destinationRule: undefined, virtualService: undefined, usedVips: [] };

export interface ModeContext extends PlanContext {
  readonly sinkId: RegistryId;
  readonly istio: IstioOptions;
  /** Whether this service uses the Istio mode (`istioModeFor`). */
  readonly istioMode: boolean;
  readonly split: Split | undefined;
}

/** The plan of one service with the Istio mode enabled: one mode's writes, the other's removal. */
export function planWithIstio(state: KubeSinkState, desired: ServiceSnapshot | undefined, ctx: ModeContext): KubeSinkPlan {
  const { owner } = state;
  if (ctx.istioMode && desired !== undefined && ctx.heldBy !== undefined) {
    throw new BridgeError('ISTHMUS_NAME_COLLISION', `kubernetes: ${refKey(state.ref)} and ${ctx.heldBy} both map to Service ${owner.namespace}/${owner.service}`, { terminal: true, details: { ref: refKey(state.ref), heldBy: ctx.heldBy } });
  }
  const slices = planImport(state, ctx.istioMode ? undefined : desired, ctx);
  const istio = planIstio(owner, state.svc, state.istio ?? NOTHING, ctx.istioMode ? desired : undefined, {
    bridgeId: ctx.bridgeId,
    sinkId: ctx.sinkId,
    options: ctx.istio,
    mixed: ctx.options.mixed,
    split: ctx.split,
  });
  const refused = [...slices.refused, ...istio.refused];
  return {
    ...slices,
    removal: desired === undefined,
    operations: [...slices.operations, ...istio.operations],
    refused,
    refusals: [...refused.map((r) => ({ nativeId: r.endpoint.origin.nativeId, reason: r.reason })), ...istio.notices],
    istio,
  };
}

/** What is owned in both modes together, in model form; undefined when nothing is. */
export function observedWithIstio(slices: ServiceSnapshot | undefined, state: Omit<KubeSinkState, 'observed'>, bridgeId: string, registry: RegistryId): ServiceSnapshot | undefined {
  const istio = state.istio;
  if (istio === undefined || !ownsAnyIstio(istio, state.owner, bridgeId)) return slices;
  const base = slices ?? { ref: state.ref, ports: [], endpoints: [], metadata: {}, origin: registry };
  const endpoints = [...base.endpoints, ...istioEndpoints(istio)].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
  return { ...base, endpoints };
}
