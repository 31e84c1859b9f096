// Puts the topology's native records in place, as each framework or controller would, and takes
// them back. Consul: agent service registration (Spring Cloud Consul). Nacos: an ephemeral
// instance on a gRPC connection of its own (Spring Cloud Alibaba on Nacos 2.x+). ZooKeeper: an
// ephemeral provider URL node (Dubbo). Eureka: a lease kept alive by heartbeats (Spring Cloud
// Netflix, eureka-app.ts). Kubernetes: a selectorless Service plus an EndpointSlice (what the
// EndpointSlice controller writes for pods).
import { Value } from '@sinclair/typebox/value';
import { ZkClient, aclsFor, formatDubboUrl, javaUrlEncode } from '../../adapters/dubbo/index.ts';
import { CREATE_MODE, NODE_EXISTS, NOT_EMPTY, NO_NODE, zkCode } from '../../adapters/dubbo/client.ts';
import { NacosNamingClient, NacosOptions, nacosConnection } from '../../adapters/nacos/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { Kube } from '../drill/kube.ts';
import type { DemoConnections } from './config.ts';
import { EurekaVmApps } from './eureka-app.ts';
import { DEMO_TAG, DUBBO_ROOT, NAMESPACE, TOPOLOGY, type DemoEndpoint, type DemoService } from './topology.ts';

const SLICE_MANAGER = 'demo.isthmus.dev';

export function consulId(s: DemoService, e: DemoEndpoint): string {
  return `${s.name}-${e.address.replace(/\./g, '-')}-${e.port}`;
}

export function providerUrl(iface: string, e: DemoEndpoint): string {
  return formatDubboUrl({
    protocol: 'dubbo',
    host: e.address,
    port: e.port,
    path: iface,
    params: { application: 'inventory-vm', dubbo: '2.0.2', interface: iface, side: 'provider', methods: 'reserve,release', release: '3.3.2' },
  });
}

function ignoreZk(...codes: number[]): (err: unknown) => void {
  return (err) => {
    const code = zkCode(err);
    if (code === undefined || !codes.includes(code)) throw err;
  };
}

export class Natives {
  readonly #conn: DemoConnections;
  readonly #kube: Kube;
  readonly #nacosAbort = new AbortController();
  #zk: ZkClient | undefined;
  #eureka: EurekaVmApps | undefined;
  /** Provider nodes written, and the directories above them that did not exist before (top first). */
  readonly #zkNodes: string[] = [];
  readonly #zkDirs: string[] = [];

  constructor(conn: DemoConnections) {
    this.#conn = conn;
    this.#kube = new Kube(conn.kubernetes);
  }

  get kube(): Kube {
    return this.#kube;
  }

  async put(): Promise<void> {
    await this.#kube.must('POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE, labels: { 'isthmus.dev/demo': 'true' } } }, [409]);
    for (const s of TOPOLOGY) {
      if (s.home === 'consul') await this.#putConsul(s);
      else if (s.home === 'nacos') await this.#putNacos(s);
      else if (s.home === 'dubbo') await this.#putDubbo(s);
      else if (s.home === 'eureka') await (this.#eureka ??= new EurekaVmApps(this.#conn.eureka)).register(s);
      else await this.#putPods(s);
    }
  }

  async #putConsul(s: DemoService): Promise<void> {
    for (const e of s.endpoints) {
      const res = await fetch(`${this.#conn.consul.httpUrl}/v1/agent/service/register`, {
        method: 'PUT',
        body: JSON.stringify({ ID: consulId(s, e), Name: s.name, Address: e.address, Port: e.port, Meta: { zone: e.zone, secure: 'false' }, Tags: [DEMO_TAG] }),
      });
      if (!res.ok) throw new Error(`consul: registering ${s.name} → HTTP ${res.status}: ${await res.text()}`);
    }
  }

  async #putNacos(s: DemoService): Promise<void> {
    const o = Value.Default(NacosOptions, { servers: [this.#conn.nacos.serverAddr], requestTimeoutMs: 10_000 }) as NacosOptions;
    const conn = nacosConnection(o, { registryId: 'demo-vm-app', bridgeId: 'none', logger: SILENT_LOGGER });
    conn.start(this.#nacosAbort.signal);
    const client = new NacosNamingClient(conn, o.nacosNamespace);
    const instances = s.endpoints.map((e) => ({ ip: e.address, port: e.port, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: { zone: e.zone, 'preserved.register.source': 'SPRING_CLOUD' } }));
    await client.batchRegister({ group: 'DEFAULT_GROUP', service: s.nativeName ?? s.name }, instances);
  }

  async #putDubbo(s: DemoService): Promise<void> {
    this.#zk ??= new ZkClient({ connect: this.#conn.zookeeper.connectString, sessionTimeoutMs: 10_000, requestTimeoutMs: 10_000, registry: 'demo-vm-app' });
    this.#zk.start();
    const iface = s.nativeName ?? s.name;
    for (const e of s.endpoints) {
      const path = `${DUBBO_ROOT}/${javaUrlEncode(iface)}/providers/${javaUrlEncode(providerUrl(iface, e))}`;
      await this.#noteMissingDirs(this.#zk, path);
      this.#zkNodes.push(path);
      try {
        await this.#zk.create(path, Buffer.alloc(0), CREATE_MODE.EPHEMERAL, aclsFor(undefined));
      } catch (err) {
        // A node left by our previous session that has not expired yet is just as good.
        if (zkCode(err) !== NODE_EXISTS) throw err;
      }
    }
  }

  async #noteMissingDirs(zk: ZkClient, path: string): Promise<void> {
    const parts = path.split('/').filter((p) => p !== '').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!this.#zkDirs.includes(dir) && (await zk.exists(dir)) === undefined) this.#zkDirs.push(dir);
    }
  }

  async #putPods(s: DemoService): Promise<void> {
    const port = s.endpoints[0]?.port ?? 8080;
    await this.#kube.must('POST', `/api/v1/namespaces/${NAMESPACE}/services`, {
      metadata: { name: s.name, labels: { 'isthmus.dev/demo': 'true' }, annotations: { ...s.annotations } },
      spec: { ports: [{ name: 'http', port, targetPort: port }] },
    }, [409]);
    const slice = {
      metadata: { name: `${s.name}-pods`, labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': SLICE_MANAGER } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port, protocol: 'TCP' }],
      endpoints: s.endpoints.map((e, i) => ({ addresses: [e.address], zone: e.zone, nodeName: `node-${i + 1}`, conditions: { ready: true, serving: true, terminating: false } })),
    };
    const path = `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`;
    const created = await this.#kube.call('POST', path, slice);
    if (created.status === 409) await this.#kube.must('PUT', `${path}/${slice.metadata.name}`, slice);
    else if (created.status < 200 || created.status >= 300) throw new Error(`kube-apiserver: creating slice ${slice.metadata.name} → HTTP ${created.status}`);
  }

  /** Takes back every native record; each step is tried even if an earlier one failed. */
  async remove(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    for (const s of TOPOLOGY) {
      if (s.home === 'consul') {
        for (const e of s.endpoints) await attempt(`consul ${s.name}`, () => fetch(`${this.#conn.consul.httpUrl}/v1/agent/service/deregister/${consulId(s, e)}`, { method: 'PUT' }));
      } else if (s.home === 'kubernetes') {
        await attempt(`k8s slice ${s.name}`, () => this.#kube.must('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices/${s.name}-pods`, undefined, [404]));
        await attempt(`k8s service ${s.name}`, () => this.#kube.must('DELETE', `/api/v1/namespaces/${NAMESPACE}/services/${s.name}`, undefined, [404]));
      }
    }
    // Eureka leases would expire by themselves, but only minutes later (or never, on a server in
    // self-preservation): a Spring app cancels its lease on shutdown, and so does the demo.
    if (this.#eureka !== undefined) problems.push(...(await this.#eureka.cancelAll()));
    // Ephemeral records would go with their sessions too, but ZooKeeper notices a closed session
    // only after its timeout; the directories Dubbo's layout needed were ours and go as well,
    // unless something (the bridge's exports, another provider) still lives in them.
    const zk = this.#zk;
    if (zk !== undefined) {
      for (const path of this.#zkNodes) await attempt(`zookeeper ${path}`, () => zk.remove(path).catch(ignoreZk(NO_NODE)));
      for (const dir of [...this.#zkDirs].reverse()) await attempt(`zookeeper ${dir}`, () => zk.remove(dir).catch(ignoreZk(NO_NODE, NOT_EMPTY)));
    }
    // The Nacos instance goes with its connection.
    this.#nacosAbort.abort();
    zk?.close();
    return problems;
  }
}
