// Fixtures for the real-istiod tests: the pod side of a service as a controller manager and a
// kubelet would leave it in an apiserver that runs neither, an admin kubeconfig for istiod and the
// bridge, and a reader of istiod's /debug/endpointShardz.
import { type KubeTestEnv, must } from '../adapters/kubernetes-env.ts';

/** One endpoint as /debug/endpointShardz prints it (Go field names, no JSON tags). */
export interface IstioEndpoint {
  Labels?: Record<string, string>;
  Addresses?: string[];
  ServicePortName?: string;
  EndpointPort?: number;
  LbWeight?: number;
  TLSMode?: string;
  ServiceAccount?: string;
  Locality?: { Label?: string };
  HealthStatus?: number;
  WorkloadName?: string;
}

/** host → namespace → shards (one per registry/cluster) → endpoints. */
export type Shardz = Record<string, Record<string, { Shards?: Record<string, IstioEndpoint[] | null> }>>;

/** Every endpoint istiod holds for `host` in `namespace`, whichever registry it came from. */
export function endpointsOf(shardz: Shardz, host: string, namespace: string): IstioEndpoint[] {
  return Object.values(shardz[host]?.[namespace]?.Shards ?? {}).flatMap((list) => list ?? []);
}

/** A kubeconfig (JSON is YAML) for the harness apiserver as cluster admin. */
export interface PodSide {
  readonly namespace: string;
  readonly service: string;
  readonly servicePort: number;
  readonly pod: string;
  readonly ip: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A Service with a selector (accepting our imports), a Running+Ready Pod with `labels` at `ip`,
 * and the EndpointSlice the controller manager would write for it, with the Pod as targetRef so
 * istiod takes the endpoint's labels from the Pod. Port name `grpc` throughout.
 */
export async function createPodSide(e: KubeTestEnv, p: PodSide): Promise<void> {
  const ns = p.namespace;
  // The ServiceAccount admission plugin refuses pods whose account is missing, and no
  // controller manager creates `default` here.
  await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } }, [409]);
  await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, {
    metadata: { name: p.service, annotations: { 'isthmus.dev/accept-imports': 'true' } },
    spec: { selector: { app: p.service }, ports: [{ name: 'grpc', port: p.servicePort, targetPort: 'grpc', appProtocol: 'grpc' }] },
  });
  await must(e, 'POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: p.pod, labels: { ...p.labels } },
    spec: { containers: [{ name: 'app', image: 'app:test', ports: [{ name: 'grpc', containerPort: p.port }] }] },
  });
  const pod = await must(e, 'GET', `/api/v1/namespaces/${ns}/pods/${p.pod}`);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await must(e, 'PUT', `/api/v1/namespaces/${ns}/pods/${p.pod}/status`, {
    ...pod,
    status: {
      phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], startTime: now,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }],
    },
  });
  const uid = (pod['metadata'] as { uid: string }).uid;
  await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
    metadata: { name: `${p.service}-pods`, labels: { 'kubernetes.io/service-name': p.service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    ports: [{ name: 'grpc', port: p.port, protocol: 'TCP', appProtocol: 'grpc' }],
    endpoints: [{ addresses: [p.ip], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: ns, name: p.pod, uid } }],
  });
}

/** Polls `check` every 50 ms until it holds; resolves with the time it first held. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now();
}
