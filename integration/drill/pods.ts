// The drill's stand-in for the kubelet and the EndpointSlice controller: a "pod" is a local
// provider process with its own IP (see net.ts), and the drill publishes it in a slice of the
// Service exactly as the controller would: not ready while starting, ready once its health
// endpoint answers, terminating while it stops.
import type { Kube } from './kube.ts';

/** Labels the built-in controller puts on its slices. */
const CONTROLLER = 'endpointslice-controller.k8s.io';

export interface PodAddress {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  /** The Service's port name (default http). */
  readonly portName?: string;
}

export interface PodConditions {
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

export const STARTING: PodConditions = { ready: false, serving: false, terminating: false };
export const READY: PodConditions = { ready: true, serving: true, terminating: false };
export const TERMINATING: PodConditions = { ready: false, serving: true, terminating: true };

/**
 * A Service that selects the pods by label, with a named targetPort so each pod may listen on its
 * own port (the controller then writes one slice per port). `accept-imports` lets Isthmus add the
 * VM providers to this same Service during the mixed phase (DESIGN §6).
 */
export async function createService(kube: Kube, namespace: string, name: string, extra: { portName?: string; port?: number; annotations?: Record<string, string> } = {}): Promise<void> {
  const portName = extra.portName ?? 'http';
  await kube.must('POST', `/api/v1/namespaces/${namespace}/services`, {
    metadata: { name, annotations: { 'isthmus.dev/accept-imports': 'true', ...extra.annotations }, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: portName, port: extra.port ?? 80, targetPort: portName, protocol: 'TCP' }] },
  }, [409]);
}

export async function createNamespace(kube: Kube, name: string): Promise<void> {
  await kube.must('POST', '/api/v1/namespaces', { metadata: { name, labels: { 'isthmus.dev/test': 'true', 'isthmus.dev/drill': 'true' } } }, [409]);
}

function sliceName(service: string, pod: PodAddress): string {
  return `${service}-${pod.name}`;
}

function slice(service: string, pod: PodAddress, c: PodConditions, resourceVersion?: string): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName(service, pod),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': CONTROLLER },
    },
    addressType: 'IPv4',
    ports: [{ name: pod.portName ?? 'http', port: pod.port, protocol: 'TCP' }],
    endpoints: [{
      addresses: [pod.ip],
      conditions: { ready: c.ready, serving: c.serving, terminating: c.terminating },
      nodeName: 'drill-node',
      zone: 'drill-zone',
      targetRef: { kind: 'Pod', name: pod.name, namespace: '' },
    }],
  };
}

/** Create or replace the pod's slice with the given conditions. */
export async function publishPod(kube: Kube, namespace: string, service: string, pod: PodAddress, c: PodConditions): Promise<void> {
  const path = `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;
  const existing = await kube.call('GET', `${path}/${sliceName(service, pod)}`);
  const body = slice(service, pod, c);
  (body.endpoints as { targetRef: { namespace: string } }[])[0]!.targetRef.namespace = namespace;
  if (existing.status === 404) {
    await kube.must('POST', path, body);
    return;
  }
  const rv = (existing.body.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  await kube.must('PUT', `${path}/${sliceName(service, pod)}`, { ...body, metadata: { ...(body.metadata as object), resourceVersion: rv } });
}

export async function unpublishPod(kube: Kube, namespace: string, service: string, pod: PodAddress): Promise<void> {
  await kube.must('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices/${sliceName(service, pod)}`, undefined, [404]);
}

/** Deletes every Service and slice in the drill namespace (no controller-manager empties it). */
export async function cleanupNamespace(kube: Kube, namespace: string): Promise<void> {
  await kube.call('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`);
  const services = await kube.call('GET', `/api/v1/namespaces/${namespace}/services`);
  for (const svc of (services.body.items ?? []) as { metadata?: { name?: string } }[]) {
    if (svc.metadata?.name !== undefined) await kube.call('DELETE', `/api/v1/namespaces/${namespace}/services/${svc.metadata.name}`);
  }
  await kube.call('DELETE', `/api/v1/namespaces/${namespace}`);
}
