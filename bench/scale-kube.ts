// The Kubernetes side of the scale bench: headless Services and the EndpointSlices the
// controller would write for them (the harness runs no controller-manager), in one namespace.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kube } from '../integration/drill/kube.ts';
import type { KubernetesConnection } from '../integration/servers/index.ts';
import { CountingProxy, kubeClass, kubeWatch } from './scale-proxy.ts';
import { pool, type RouteSettings } from './scale-route.ts';

export { pool } from './scale-route.ts';

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
    // At 10,000 slices the collection delete outlasts the client's 10 s timeout but goes on in
    // the API server; the Services and the namespace are deleted either way.
    await this.kube.call('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`).catch(() => undefined);
    // Listed, not remembered: the import route may have created Services of its own here.
    const list = await this.kube.must('GET', `/api/v1/namespaces/${this.namespace}/services`);
    const names = ((list['items'] ?? []) as { metadata?: { name?: string } }[]).map((s) => s.metadata?.name ?? '').filter((n) => n !== '');
    await pool(names, concurrency, async (n) => { await this.kube.call('DELETE', `/api/v1/namespaces/${this.namespace}/services/${n}`); });
    await this.kube.call('DELETE', `/api/v1/namespaces/${this.namespace}`);
  }
}

/** The roll service of every route: named `roll`, its pods after the numbered services' addresses. */
export const ROLL = 'roll';

export function pods(service: number, n: number, from = 0): Pod[] {
  return Array.from({ length: n }, (_, p) => ({ ip: podIp(service, from + p), name: `p-${service}-${from + p}` }));
}

/**
 * The Kubernetes side of the export routes: `svc-<i>` Services with their slices, and the roll
 * service whose pods are replaced one at a time (one slice PUT each, as the controller writes it).
 */
export class KubeWorkload {
  readonly kube: ScaleKube;
  readonly #s: RouteSettings;
  #current: Pod[] = [];
  #rv: string | undefined;

  constructor(kube: ScaleKube, s: RouteSettings) {
    this.kube = kube;
    this.#s = s;
  }

  async populate(): Promise<void> {
    const s = this.#s;
    const names = Array.from({ length: s.services }, (_, i) => `svc-${i}`);
    const t0 = performance.now();
    await pool(names, 16, (n, i) => this.kube.createService(n, pods(i, s.endpointsPerService)));
    this.#current = pods(s.services, s.rollPods);
    await this.kube.createService(ROLL, this.#current);
    this.#rv = await this.kube.sliceVersion(ROLL);
    s.progress(`created ${s.services + 1} Services / ${s.services * s.endpointsPerService + s.rollPods} endpoints in ${this.kube.namespace} in ${Math.round((performance.now() - t0) / 100) / 10} s`);
  }

  /** Replaces pod `i`; resolves once the API server took the new slice, with both pods. */
  async change(i: number): Promise<{ changedAt: number; old: Pod; fresh: Pod }> {
    const old = this.#current[i] as Pod;
    const fresh: Pod = { ip: podIp(this.#s.services, this.#current.length + i), name: `${old.name}-new` };
    this.#current[i] = fresh;
    const changedAt = performance.now();
    this.#rv = await this.kube.putSlice(ROLL, this.#current, this.#rv);
    return { changedAt, old, fresh };
  }
}

/**
 * The API server as the bridge sees it in the bench: through a counting proxy, with a kubeconfig
 * naming the proxy (plain HTTP on loopback; the proxy speaks TLS to the API server). The bench's
 * own calls go straight to the API server, uncounted.
 */
export class CountedKube {
  readonly proxy: CountingProxy;
  readonly kube: ScaleKube;
  readonly #conn: KubernetesConnection;
  #dir: string | undefined;
  kubeconfigPath = '';

  constructor(conn: KubernetesConnection, namespace: string) {
    this.#conn = conn;
    this.kube = new ScaleKube(conn, namespace);
    this.proxy = new CountingProxy(conn.server, { ca: readFileSync(conn.caFile), classify: kubeClass, blocking: kubeWatch });
  }

  async start(): Promise<void> {
    const url = await this.proxy.start();
    this.#dir = await mkdtemp(join(tmpdir(), 'isthmus-scale-kube-'));
    this.kubeconfigPath = join(this.#dir, 'kubeconfig.json');
    await writeFile(this.kubeconfigPath, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'bench',
      clusters: [{ name: 'bench', cluster: { server: url } }],
      users: [{ name: 'bench', user: { token: this.#conn.token } }],
      contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
    }), { mode: 0o600 });
    await this.kube.createNamespace();
  }

  async cleanup(): Promise<void> {
    await this.kube.cleanup(16);
    if (this.#dir !== undefined) await rm(this.#dir, { recursive: true, force: true });
  }
}
