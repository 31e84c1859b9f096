// The Kubernetes side of the scale bench: headless Services and the EndpointSlices the
// controller would write for them (the harness runs no controller-manager), in one namespace.
import { Kube } from '../integration/drill/kube.ts';

export interface Pod {
  readonly ip: string;
  readonly name: string;
}

export function podIp(service: number, pod: number): string {
  // 10.64.0.0/10 leaves room for 1,000+ services of up to 250 pods each, and for new pods.
  return `10.${64 + (service >> 8)}.${service & 255}.${pod + 1}`;
}

export class ScaleKube {
  readonly kube: Kube;
  readonly namespace: string;

  constructor(access: { server: string; token: string; caFile: string }, namespace: string) {
    this.kube = new Kube(access);
    this.namespace = namespace;
  }

  async createNamespace(): Promise<void> {
    // Labelled as test data, so the harness's sweep finds it if this run dies before cleanup.
    await this.kube.must('POST', '/api/v1/namespaces', { metadata: { name: this.namespace, labels: { 'isthmus.dev/test': 'true' } } });
  }

  /** A headless Service (no ClusterIP to exhaust the small service CIDR) and its one slice. */
  async createService(name: string, pods: readonly Pod[]): Promise<void> {
    await this.kube.must('POST', `/api/v1/namespaces/${this.namespace}/services`, {
      metadata: { name },
      spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
    });
    await this.kube.must('POST', `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`, this.slice(name, pods));
  }

  /** The slice's resourceVersion, so a timed PUT needs no GET inside the timing. */
  async sliceVersion(name: string): Promise<string | undefined> {
    const current = await this.kube.must('GET', this.#slicePath(name));
    return (current['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
  }

  /** Replaces the slice's endpoints; answers the new resourceVersion. */
  async putSlice(name: string, pods: readonly Pod[], rv: string | undefined): Promise<string | undefined> {
    const body = await this.kube.must('PUT', this.#slicePath(name), this.slice(name, pods, rv));
    return (body['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
  }

  #slicePath(name: string): string {
    return `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices/${name}-bench`;
  }

  slice(name: string, pods: readonly Pod[], rv?: string): Record<string, unknown> {
    return {
      metadata: {
        name: `${name}-bench`,
        ...(rv === undefined ? {} : { resourceVersion: rv }),
        labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: pods.map((p) => ({
        addresses: [p.ip],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', name: p.name, namespace: this.namespace },
      })),
    };
  }

  /** Services, slices, then the namespace (nothing else empties it without a controller-manager). */
  async cleanup(concurrency: number): Promise<void> {
    await this.kube.call('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`);
    // Listed, not remembered: the import route may have created Services of its own here.
    const list = await this.kube.must('GET', `/api/v1/namespaces/${this.namespace}/services`);
    const names = ((list['items'] ?? []) as { metadata?: { name?: string } }[]).map((s) => s.metadata?.name ?? '').filter((n) => n !== '');
    await pool(names, concurrency, async (n) => { await this.kube.call('DELETE', `/api/v1/namespaces/${this.namespace}/services/${n}`); });
    await this.kube.call('DELETE', `/api/v1/namespaces/${this.namespace}`);
  }
}

/** Runs `f` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await f(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
