// Whether the pods of a Service carry the DestinationRule's pod subset labels (`podSubsetLabels`).
// The `k8s` subset selects by labels only, so when no pod carries them it is empty, and every
// call the VirtualService sends to it fails ("priority policy has empty priority list" in gRPC,
// 503 no healthy upstream in Envoy). The plan takes the answer as a plain fact; reading it is one
// label-selected pod list with limit 1, made only where a VirtualService may be written.
import { BridgeError } from '../../bridge/errors/index.ts';
import type { SinkRefusal } from '../../bridge/ports/index.ts';
import type { KubeClient } from './client.ts';
import { routingName } from './istio-render.ts';
import { isOwnedBy } from './markers.ts';
import type { SliceOwner } from './slices.ts';
import type { KService } from './types.ts';

/**
 * What the last read found: a running pod of the Service carries the labels, or none does, or
 * the pods could not be listed (`unreadable`: the reason, usually RBAC). Only `labelled` lets
 * the plan route the pod share to the `k8s` subset; the other two are handled alike.
 */
export type PodSubset = { readonly labelled: true } | { readonly labelled: false; readonly unreadable?: string };

/** The labels as a selector string, in the order given (a key in both maps stays twice: no pod matches both values). */
function selectorOf(...maps: readonly Readonly<Record<string, string>>[]): string {
  return maps.flatMap((m) => Object.entries(m).map(([k, v]) => `${k}=${v}`)).join(',');
}

/**
 * The selector of the pods the `k8s` subset would route to: the Service's selector plus
 * `podSubsetLabels`. Undefined where no VirtualService can be written (no Service, our own
 * selectorless one, or one without a selector), so nothing is listed there.
 */
export function podSubsetSelector(svc: KService | undefined, bridgeId: string, podLabels: Readonly<Record<string, string>>): string | undefined {
  if (svc === undefined || isOwnedBy(svc.metadata, bridgeId)) return undefined;
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) return undefined;
  return selectorOf(selector, podLabels);
}

/**
 * One list, limit 1, of running pods matching `selector`. A refused list (403: an RBAC role
 * without `list pods`) is a fact, not a failed pass: the pod share then goes where it cannot
 * fail, and the notice says why; every other error fails the pass as any read does.
 */
export async function readPodSubset(client: KubeClient, namespace: string, selector: string): Promise<PodSubset> {
  try {
    const pods = await client.listPods(namespace, selector, 'status.phase=Running', 1);
    return pods.items.length > 0 ? { labelled: true } : { labelled: false };
  } catch (err) {
    if (err instanceof BridgeError && err.details['status'] === 403) return { labelled: false, unreadable: err.message };
    throw err;
  }
}

/** `k=v, k2=v2`, for people. */
function labelText(labels: Readonly<Record<string, string>>): string {
  const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');
  return text === '' ? '(none)' : text;
}

/**
 * The notice (a sink refusal: quarantined in status, per service) when the pod share cannot go
 * to the `k8s` subset; undefined when it can or when the split gives the pods nothing.
 */
export function podSubsetNotice(owner: SliceOwner, podLabels: Readonly<Record<string, string>>, podShare: number, fact: PodSubset | undefined): SinkRefusal | undefined {
  if (podShare <= 0 || fact?.labelled === true) return undefined;
  const service = `${owner.namespace}/${owner.service}`;
  const labels = labelText(podLabels);
  const fallback = `so the pods' ${podShare} % of calls goes to the Service host without a subset (pods and VM instances alike, by their weights) instead of failing`;
  const nativeId = `VirtualService ${owner.namespace}/${routingName(owner)} subset k8s`;
  if (fact?.unreadable !== undefined) {
    return { nativeId, reason: `cannot tell whether pods of Service ${service} carry the pod subset labels ${labels} (${fact.unreadable}; grant list pods, deploy/rbac/optional-istio.yaml), ${fallback}` };
  }
  return { nativeId, reason: `no running pod of Service ${service} carries the pod subset labels ${labels} (sink.istio.podSubsetLabels): the k8s subset would be empty, ${fallback}; add the labels to the pods' template to restore the split` };
}
