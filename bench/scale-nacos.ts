// Kubernetes → Nacos: default Nacos options and routes both ways, in a Nacos namespace of its own
// (created and deleted by the run, so the source sees only the run's services). Nacos speaks gRPC:
// requests are counted by a TCP proxy that decodes the HTTP/2 frames (scale-frames.ts); its HTTP
// port (login, the admin lookup of disabled instances) goes through an HTTP counting proxy.
import { runningConnection } from '../integration/servers/index.ts';
import { grpcParser } from './scale-frames.ts';
import { CountedKube, KubeWorkload, ROLL } from './scale-kube.ts';
import { CountingProxy } from './scale-proxy.ts';
import { visibleAfter, type RouteSettings, type ScaleRoute } from './scale-route.ts';
import { TcpCountingProxy } from './scale-tcp.ts';

interface ServiceView { readonly name: string; readonly ipCount?: number }

export async function nacosExport(s: RouteSettings): Promise<ScaleRoute> {
  const k8sConn = await runningConnection('kubernetes');
  const nacosConn = await runningConnection('nacos');
  if (k8sConn === undefined || nacosConn === undefined) throw new Error('kubernetes and nacos must be running (npm run servers -- start kubernetes nacos)');
  const base = nacosConn.baseUrl;
  const nacosNs = `isthmus-scale-${s.run}`;
  const side = new CountedKube(k8sConn, s.namespace);
  const workload = new KubeWorkload(side.kube, s);
  const http = new CountingProxy(`http://${nacosConn.host}:${nacosConn.httpPort}`);
  const grpc = new TcpCountingProxy(nacosConn.host, nacosConn.grpcPort, grpcParser);
  let httpPort = 0;
  let grpcPort = 0;
  let last = 0;

  const admin = async (method: string, path: string, params: Record<string, string>): Promise<unknown> => {
    const res = await fetch(`${base}${path}?${new URLSearchParams(params).toString()}`, { method, signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as { code?: number; data?: unknown; message?: string };
    if (!res.ok || body.code !== 0) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
    return body.data;
  };
  /** Every service of the run's namespace with its instance count (the admin view, 1,000 a page). */
  const services = async (): Promise<ServiceView[]> => {
    const out: ServiceView[] = [];
    for (let page = 1; ; page++) {
      const data = (await admin('GET', '/v3/admin/ns/service/list', { namespaceId: nacosNs, pageNo: String(page), pageSize: '1000', withInstances: 'false' })) as { pageItems?: ServiceView[]; totalCount?: number };
      out.push(...(data.pageItems ?? []));
      if ((data.pageItems ?? []).length < 1000) return out;
    }
  };
  const rollAddresses = async (): Promise<Set<string>> => {
    const list = (await admin('GET', '/v3/admin/ns/instance/list', { namespaceId: nacosNs, serviceName: ROLL, groupName: 'DEFAULT_GROUP' })) as { ip: string }[] | null;
    return new Set((list ?? []).map((i) => i.ip));
  };

  return {
    name: 'k8s-nacos',
    target: grpc,
    others: { nacosHttp: http, kubernetes: side.proxy },
    counting: 'TCP proxy in front of the Nacos gRPC port decoding HTTP/2 frames: requests = Payloads of type *Request sent by the bridge (keepalive HealthCheck included), writes = Instance/BatchInstance/PersistentInstance requests, pushes = server-sent requests; nacosHttp: HTTP proxy in front of the main port; kubernetes: HTTP proxy in front of the API server',
    async prepare() {
      httpPort = Number(new URL(await http.start()).port);
      grpcPort = Number(await grpc.start());
      await admin('POST', '/v3/admin/core/namespace', { namespaceId: nacosNs, namespaceName: nacosNs, namespaceDesc: 'isthmus scale bench' });
      await side.start();
    },
    populate: () => workload.populate(),
    config: (resolverPort) => ({
      bridge: { id: `scale-${s.run}` },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig: side.kubeconfigPath }, namespaces: [s.namespace] },
        // The gRPC port is main + grpcPortOffset: both proxies, so the offset is theirs.
        nacos: { kind: 'nacos', servers: [`127.0.0.1:${httpPort}`], grpcPortOffset: grpcPort - httpPort, nacosNamespace: nacosNs, namespace: s.namespace },
      },
      routes: [
        { from: 'k8s', to: 'nacos', select: { namespaces: [s.namespace] } },
        { from: 'nacos', to: 'k8s', select: { namespaces: [s.namespace] } },
      ],
      resolver: { http: { host: '127.0.0.1', port: resolverPort }, grpc: { enabled: false } },
      log: { level: 'warn' },
    }),
    // The admin list answers 500 ("Accept exceeded fixed size") while services are being
    // created; such a poll counts as no progress rather than a failed run.
    servicesInTarget: async () => {
      try {
        last = (await services()).filter((v) => (v.ipCount ?? 0) > 0).length;
      } catch (err) {
        s.progress(`Nacos service list failed, polling on: ${String(err).slice(0, 160)}`);
      }
      return last;
    },
    async details() {
      const all = await services();
      return { instancesInTarget: all.reduce((n, v) => n + (v.ipCount ?? 0), 0), grpcConnections: grpc.connections, unparsedConnections: grpc.unparsed };
    },
    async rollStep(i) {
      const { changedAt, old, fresh } = await workload.change(i);
      // The admin view is polled every 20 ms (Nacos has no blocking read over HTTP).
      return visibleAfter(changedAt, `pod ${i} of ${ROLL} in Nacos`, async () => {
        const a = await rollAddresses();
        return a.has(fresh.ip) && !a.has(old.ip);
      }, 20);
    },
    async cleanup() {
      try {
        await side.cleanup();
      } finally {
        // Our ephemeral instances went with the bridge's connection; empty services go with the namespace.
        await admin('DELETE', '/v3/admin/core/namespace', { namespaceId: nacosNs }).catch((err: unknown) => { s.progress(`nacos namespace ${nacosNs} not deleted: ${String(err)}`); });
      }
    },
  };
}
