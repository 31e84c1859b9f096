import { MARKER } from '../../bridge/model/index.ts';
import type { ObjectMeta } from './types.ts';

/** Label/annotation keys Isthmus writes and reads on Kubernetes objects (DESIGN §6). */
export const K8S = {
  managedBy: `isthmus.dev/${MARKER.managedBy}`,
  origin: `isthmus.dev/${MARKER.origin}`,
  originIds: 'isthmus.dev/origin-ids',
  originalName: 'isthmus.dev/original-name',
  originalNamespace: 'isthmus.dev/original-namespace',
  sliceManagedBy: 'endpointslice.kubernetes.io/managed-by',
  // DESIGN §6 says isthmus.dev/bridge, but label values cannot contain '/': the API server
  // rejects it (422). Same shape as the built-in endpointslice-controller.k8s.io instead.
  sliceController: 'bridge.isthmus.dev',
  serviceName: 'kubernetes.io/service-name',
  /** Per-Service annotations read by the source. */
  exportPort: 'isthmus.dev/export-port',
  addressMode: 'isthmus.dev/address-mode',
  /** On a native Service: its owner agrees to Isthmus adding imported endpoints (mixed mode). */
  acceptImports: 'isthmus.dev/accept-imports',
} as const;

/** Anything any Isthmus bridge wrote: sources skip it so nothing ping-pongs (DESIGN §4). */
export function isIsthmusObject(meta: ObjectMeta | undefined): boolean {
  const labels = meta?.labels ?? {};
  return labels[K8S.managedBy] !== undefined || labels[K8S.sliceManagedBy] === K8S.sliceController || meta?.annotations?.[K8S.managedBy] !== undefined;
}

/** Written by this bridge: the only objects its sink may update or delete. */
export function isOwnedBy(meta: ObjectMeta | undefined, bridgeId: string): boolean {
  return meta?.labels?.[K8S.managedBy] === bridgeId;
}
