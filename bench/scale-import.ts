// Consul → Kubernetes: services registered natively in Consul (one synthetic VM node per instance
// slot, as agents would register them), imported into a fresh Kubernetes namespace. Default
// options except `services`, which selects the run's names (the shared Consul holds other
// people's services, and importing them would count their writes as ours), and headless Services.
import { runningConnection } from '../integration/servers/index.ts';
import { CountedKube, podIp } from './scale-kube.ts';
import { CountingProxy } from './scale-proxy.ts';
import { pool, type RouteSettings, type ScaleRoute } from './scale-route.ts';
import { SliceWatch } from './slice-watch.ts';

type TxnOp = Record<string, unknown>;
/** Consul's transaction limit is 64 operations (128 since 1.x with a raised limit; 64 is safe). */
const TXN_OPS = 64;

interface Slice { readonly endpoints?: readonly { readonly addresses?: readonly string[] }[] | null }

export async function consulImport(s: RouteSettings): Promise<ScaleRoute> {
  const k8sConn = await runningConnection('kubernetes');
  const consulConn = await runningConnection('consul');
  if (k8sConn === undefined || consulConn === undefined) throw new Error('kubernetes and consul must be running (npm run servers -- start kubernetes consul)');
  const consul = consulConn.httpUrl;
  const side = new CountedKube(k8sConn, s.namespace);
  const proxy = new CountingProxy(consul);
  let proxyUrl = '';
  const prefix = `s${s.run}`;
  const roll = `${prefix}-roll`;
  const vm = (slot: number | string): string => `isthmus-scale-${s.run}-vm-${slot}`;
  const rollNode = vm('roll');
  const nodes = [...Array.from({ length: s.endpointsPerService }, (_, p) => vm(p)), rollNode];
  const kube = side.kube.kube;
  const slicesPath = `/apis/discovery.k8s.io/v1/namespaces/${s.namespace}/endpointslices`;

  const txn = async (ops: readonly TxnOp[]): Promise<void> => {
    const res = await fetch(`${consul}/v1/txn`, { method: 'PUT', body: JSON.stringify(ops) });
    if (!res.ok) throw new Error(`PUT /v1/txn → ${res.status}: ${(await res.text()).slice(0, 300)}`);
  };
  const register = (node: string, id: string, service: string, ip: string): TxnOp => ({ Service: { Verb: 'set', Node: node, Service: { ID: id, Service: service, Address: ip, Port: 8080 } } });
  // Opened at the first roll step, once the initial sync has written the roll service's slices.
  let rollWatch: SliceWatch | undefined;

  return {
    name: 'consul-k8s',
    target: side.proxy,
    others: { consul: proxy },
    counting: 'HTTP proxy in front of the Kubernetes API server (every request of the bridge; watches counted as blocking); consul: HTTP proxy in front of Consul',
    async prepare() {
      proxyUrl = await proxy.start();
      await side.start();
    },
    async populate() {
      const t0 = performance.now();
      await txn(nodes.map((n, i) => ({ Node: { Verb: 'set', Node: { Node: n, Address: `192.0.2.${i + 1}` } } })));
      const ops: TxnOp[] = [];
      for (let i = 0; i < s.services; i++) {
        for (let p = 0; p < s.endpointsPerService; p++) ops.push(register(vm(p), `${prefix}-${i}`, `${prefix}-${i}`, podIp(i, p)));
      }
      for (let p = 0; p < s.rollPods; p++) ops.push(register(rollNode, `${roll}-${p}`, roll, podIp(s.services, p)));
      const batches = Array.from({ length: Math.ceil(ops.length / TXN_OPS) }, (_, b) => ops.slice(b * TXN_OPS, (b + 1) * TXN_OPS));
      await pool(batches, 4, (b) => txn(b));
      s.progress(`registered ${s.services + 1} Consul services / ${ops.length} instances on ${nodes.length} nodes in ${Math.round((performance.now() - t0) / 100) / 10} s`);
    },
    config: (resolverPort) => ({
      bridge: { id: `scale-${s.run}` },
      registries: {
        // Headless: the harness API server's service CIDR runs out of ClusterIPs after a few
        // hundred imports (HTTP 500 "failed to allocate a serviceIP"), a limit of that cluster.
        k8s: { kind: 'kubernetes', connection: { kubeconfig: side.kubeconfigPath }, namespaces: [s.namespace], sink: { serviceType: 'Headless' } },
        consul: { kind: 'consul', address: proxyUrl, namespace: s.namespace, services: [`${prefix}-*`] },
      },
      routes: [
        { from: 'consul', to: 'k8s', select: { namespaces: [s.namespace] } },
        { from: 'k8s', to: 'consul', select: { namespaces: [s.namespace] } },
      ],
      resolver: { http: { host: '127.0.0.1', port: resolverPort }, grpc: { enabled: false } },
      log: { level: 'warn' },
    }),
    async servicesInTarget() {
      // One item and the server's remaining count: cheap enough to poll every 250 ms.
      const list = await kube.must('GET', `${slicesPath}?limit=1`);
      const meta = list['metadata'] as { remainingItemCount?: number } | undefined;
      return ((list['items'] ?? []) as unknown[]).length + (meta?.remainingItemCount ?? 0);
    },
    async details() {
      const list = await kube.must('GET', slicesPath);
      const items = (list['items'] ?? []) as Slice[];
      const services = await kube.must('GET', `/api/v1/namespaces/${s.namespace}/services`);
      return {
        slicesInTarget: items.length,
        servicesCreated: ((services['items'] ?? []) as unknown[]).length,
        instancesInTarget: items.reduce((n, sl) => n + (sl.endpoints ?? []).length, 0),
      };
    },
    async rollStep(i) {
      const oldIp = podIp(s.services, i);
      const freshIp = podIp(s.services, s.rollPods + i);
      if (rollWatch === undefined) {
        rollWatch = new SliceWatch(k8sConn, s.namespace, roll);
        await rollWatch.start();
      }
      const changedAt = performance.now();
      // One transaction: the new instance and the old one's removal become visible together, as the slice PUT of the export routes does.
      await txn([register(rollNode, `${roll}-new-${i}`, roll, freshIp), { Service: { Verb: 'delete', Node: rollNode, Service: { ID: `${roll}-${i}`, Service: roll } } }]);
      const seenAt = await rollWatch.until((a) => a.has(freshIp) && !a.has(oldIp), 30_000)
        .catch((error: unknown) => { throw new Error(`pod ${i} of ${roll} in Kubernetes: ${(error as Error).message}`); });
      return { changedAt, visibleMs: seenAt - changedAt };
    },
    async cleanup() {
      rollWatch?.close();
      for (const n of nodes) await fetch(`${consul}/v1/catalog/deregister`, { method: 'PUT', body: JSON.stringify({ Node: n }) }).catch(() => undefined);
      await side.cleanup();
    },
  };
}
