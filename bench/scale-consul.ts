// Kubernetes → Consul: the route issue 17 measured first, with default Consul options and routes
// both ways (a Consul registry that is also a source watches what it exports).
import { shardFilter } from '../adapters/consul/shards.ts';
import { runningConnection } from '../integration/servers/index.ts';
import { CountedKube, KubeWorkload, ROLL } from './scale-kube.ts';
import { CountingProxy } from './scale-proxy.ts';
import type { RouteSettings, ScaleRoute } from './scale-route.ts';

/** Direct, uncounted Consul reads: the bench's own checks must not show up in the figures. */
export async function consulGet(base: string, path: string, params: Record<string, string> = {}): Promise<{ body: unknown; index: number }> {
  const url = new URL(base + path);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${await res.text()}`);
  return { body: await res.json(), index: Number(res.headers.get('x-consul-index') ?? '0') };
}

export async function consulExport(s: RouteSettings): Promise<ScaleRoute> {
  const k8sConn = await runningConnection('kubernetes');
  const consulConn = await runningConnection('consul');
  if (k8sConn === undefined || consulConn === undefined) throw new Error('kubernetes and consul must be running (npm run servers -- start kubernetes consul)');
  const consul = consulConn.httpUrl;
  const node = `isthmus-scale-${s.run}`;
  const side = new CountedKube(k8sConn, s.namespace);
  const workload = new KubeWorkload(side.kube, s);
  const proxy = new CountingProxy(consul);
  let proxyUrl = '';
  const ownNodes = async (): Promise<string[]> =>
    ((await consulGet(consul, '/v1/catalog/nodes', { filter: shardFilter(node, 'Node') })).body as { Node: string }[]).map((n) => n.Node);

  return {
    name: 'k8s-consul',
    target: proxy,
    others: { kubernetes: side.proxy },
    counting: 'HTTP proxy in front of Consul (every request of the bridge); kubernetes: HTTP proxy in front of the API server',
    async prepare() {
      proxyUrl = await proxy.start();
      await side.start();
    },
    populate: () => workload.populate(),
    config: (resolverPort) => ({
      bridge: { id: `scale-${s.run}` },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig: side.kubeconfigPath }, namespaces: [s.namespace] },
        // Default Consul options (`services: ['*']`); only the canonical namespace is set, so
        // anything the import route finds lands in the bench namespace, which is deleted.
        consul: { kind: 'consul', address: proxyUrl, namespace: s.namespace, ...(s.nodeShards === undefined ? {} : { nodeShards: s.nodeShards }) },
      },
      routes: [
        { from: 'k8s', to: 'consul', select: { namespaces: [s.namespace] } },
        { from: 'consul', to: 'k8s', select: { namespaces: [s.namespace] } },
      ],
      resolver: { http: { host: '127.0.0.1', port: resolverPort }, grpc: { enabled: false } },
      log: { level: 'warn' },
    }),
    async servicesInTarget() {
      return Object.keys((await consulGet(consul, '/v1/catalog/services', { filter: shardFilter(node, 'Node') })).body as Record<string, unknown>).length;
    },
    async details() {
      const shards = await ownNodes();
      let instances = 0;
      for (const n of shards) instances += ((await consulGet(consul, `/v1/catalog/node-services/${encodeURIComponent(n)}`)).body as { Services: unknown[] | null }).Services?.length ?? 0;
      return { instancesInTarget: instances, shardNodes: shards.length };
    },
    async rollStep(i) {
      const { index } = await consulGet(consul, `/v1/health/service/${ROLL}`, { filter: shardFilter(node, 'Node.Node') });
      const { changedAt, old, fresh } = await workload.change(i);
      let at = index;
      for (;;) {
        const res = await consulGet(consul, `/v1/health/service/${ROLL}`, { filter: shardFilter(node, 'Node.Node'), index: String(at), wait: '10s' });
        const addresses = new Set((res.body as { Service: { Address: string } }[]).map((e) => e.Service.Address));
        if (addresses.has(fresh.ip) && !addresses.has(old.ip)) return { changedAt, visibleMs: performance.now() - changedAt };
        if (performance.now() - changedAt > 30_000) throw new Error(`pod ${i} of ${ROLL} not rolled in Consul within 30 s`);
        at = res.index;
      }
    },
    async cleanup() {
      for (const n of await ownNodes().catch(() => [node])) {
        await fetch(`${consul}/v1/catalog/deregister`, { method: 'PUT', body: JSON.stringify({ Node: n }) }).catch(() => undefined);
      }
      await side.cleanup();
    },
  };
}
