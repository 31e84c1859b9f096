// Everything `npm run demo` and its bridge could leave in the registries, as one sorted list of
// lines, so a test can take it before the demo and compare after. Limited to the demo's own
// corner of each shared server (its service names, namespace, ZooKeeper roots and Consul node):
// other test files use the same servers.
import { isShardName } from '../../adapters/consul/shards.ts';
import { ZkClient } from '../../adapters/dubbo/index.ts';
import { NO_NODE, zkCode } from '../../adapters/dubbo/client.ts';
import { asArray, portNumber, type EurekaInstance } from '../../adapters/eureka/native.ts';
import type { Kube } from '../drill/kube.ts';
import type { DemoConnections } from '../demo/config.ts';
import { DUBBO_ROOT, NAMESPACE, SERVICE_NAMES, TOPOLOGY } from '../demo/topology.ts';

/** The bridge's synthetic Consul node for bridge id `demo` (and its shard nodes `<node>_<k>`). */
const CONSUL_NODE = 'isthmus-demo';
const ZK_ROOTS = [DUBBO_ROOT, `${DUBBO_ROOT}-services`, `${DUBBO_ROOT}-state`];

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function consul(conn: DemoConnections): Promise<string[]> {
  const base = conn.consul.httpUrl;
  const lines: string[] = [];
  const nodes = await json<{ Node: string }[]>(`${base}/v1/catalog/nodes`);
  for (const n of nodes) if (isShardName(CONSUL_NODE, n.Node)) lines.push(`consul node ${n.Node}`);
  const names = new Set([...SERVICE_NAMES, ...TOPOLOGY.map((s) => s.nativeName ?? s.name)]);
  for (const name of names) {
    const entries = await json<{ Node: string; ServiceID: string; ServiceAddress: string; ServicePort: number }[]>(`${base}/v1/catalog/service/${encodeURIComponent(name)}`);
    for (const e of entries) lines.push(`consul ${name} ${e.Node}/${e.ServiceID} ${e.ServiceAddress}:${e.ServicePort}`);
  }
  return lines;
}

async function nacos(conn: DemoConnections): Promise<string[]> {
  const lines: string[] = [];
  for (const s of TOPOLOGY) {
    for (const name of new Set([s.name, s.nativeName ?? s.name])) {
      const q = new URLSearchParams({ serviceName: name, groupName: 'DEFAULT_GROUP', namespaceId: 'public' });
      const res = await fetch(`${conn.nacos.baseUrl}/v2/ns/instance/list?${q.toString()}`, { signal: AbortSignal.timeout(10_000) });
      // An unknown service is an error code, not an empty list.
      if (!res.ok) continue;
      const reply = (await res.json()) as { data?: { hosts?: { ip: string; port: number }[] } };
      for (const h of reply.data?.hosts ?? []) lines.push(`nacos ${name} ${h.ip}:${h.port}`);
    }
  }
  return lines;
}

async function eureka(conn: DemoConnections): Promise<string[]> {
  const lines: string[] = [];
  for (const name of SERVICE_NAMES) {
    const app = name.toUpperCase();
    const res = await fetch(`${conn.eureka.baseUrl}/apps/${app}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    // An application without instances is a 404, not an empty list.
    if (res.status === 404) continue;
    if (!res.ok) throw new Error(`eureka /apps/${app}: HTTP ${res.status}`);
    const body = (await res.json()) as { application?: { instance?: EurekaInstance | EurekaInstance[] } };
    for (const i of asArray(body.application?.instance)) lines.push(`eureka ${app} ${i.instanceId ?? '?'} ${i.ipAddr ?? '?'}:${portNumber(i.port) ?? '?'}`);
  }
  return lines;
}

async function kubernetes(kube: Kube): Promise<string[]> {
  const lines: string[] = [];
  for (const [kind, path] of [['service', `/api/v1/namespaces/${NAMESPACE}/services`], ['endpointslice', `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`]] as const) {
    const body = await kube.must('GET', path);
    const items = (body['items'] ?? []) as { metadata: { name: string; uid: string } }[];
    for (const item of items) lines.push(`kubernetes ${kind} ${item.metadata.name} ${item.metadata.uid}`);
  }
  return lines;
}

async function zookeeper(zk: ZkClient): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (path: string): Promise<void> => {
    let children: string[];
    try {
      children = await zk.getChildren(path);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return;
      throw err;
    }
    lines.push(`zookeeper ${path}`);
    for (const child of children) await walk(`${path}/${child}`);
  };
  for (const root of ZK_ROOTS) await walk(root);
  return lines;
}

export class DemoFootprint {
  readonly #conn: DemoConnections;
  readonly #kube: Kube;
  readonly #zk: ZkClient;

  constructor(conn: DemoConnections, kube: Kube) {
    this.#conn = conn;
    this.#kube = kube;
    this.#zk = new ZkClient({ connect: conn.zookeeper.connectString, sessionTimeoutMs: 30_000, requestTimeoutMs: 10_000, registry: 'demo-footprint' });
    this.#zk.start();
  }

  async take(): Promise<string[]> {
    const parts = await Promise.all([consul(this.#conn), nacos(this.#conn), eureka(this.#conn), kubernetes(this.#kube), zookeeper(this.#zk)]);
    return parts.flat().sort();
  }

  close(): void {
    this.#zk.close();
  }
}
