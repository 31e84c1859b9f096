// Kubernetes → ZooKeeper (Dubbo layout): default `kind: dubbo` options and routes both ways,
// under a chroot of its own (created and deleted by the run). ZooKeeper speaks jute over TCP:
// requests are counted by a TCP proxy that reads the packet headers (scale-frames.ts).
import { createRequire } from 'node:module';
import type * as Zk from 'node-zookeeper-client';
import { runningConnection } from '../integration/servers/index.ts';
import { zkParser } from './scale-frames.ts';
import { CountedKube, KubeWorkload, ROLL } from './scale-kube.ts';
import { pool, visibleAfter, type RouteSettings, type ScaleRoute } from './scale-route.ts';
import { TcpCountingProxy } from './scale-tcp.ts';

const zk = createRequire(import.meta.url)('node-zookeeper-client') as typeof Zk;

/** The few calls the bench makes, as promises; NoNode answers an empty list. */
class Tree {
  readonly client: Zk.Client;

  constructor(connect: string) {
    this.client = zk.createClient(connect, { sessionTimeout: 10_000, spinDelay: 500, retries: 2 });
  }

  async open(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('ZooKeeper connect timed out')); }, 10_000);
      this.client.once('connected', () => { clearTimeout(timer); resolve(); });
      this.client.connect();
    });
  }

  children(path: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.client.getChildren(path, (err, children) => {
        if (err === null) resolve(children);
        else if ('getCode' in err && err.getCode() === zk.Exception.NO_NODE) resolve([]);
        else reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  create(path: string): Promise<void> {
    return new Promise((resolve, reject) => { this.client.create(path, (err) => { if (err === null) resolve(); else reject(err instanceof Error ? err : new Error(String(err))); }); });
  }

  /** Deletes `path` and everything below it, leaves first. */
  async removeTree(path: string): Promise<number> {
    const levels: string[][] = [[path]];
    for (let level = levels[0] as string[]; level.length > 0; ) {
      const next: string[] = [];
      await pool(level, 32, async (p) => { for (const c of await this.children(p)) next.push(`${p}/${c}`); });
      if (next.length > 0) levels.push(next);
      level = next;
    }
    let removed = 0;
    for (const level of levels.reverse()) {
      await pool(level, 32, (p) => new Promise<void>((resolve) => { this.client.remove(p, (err) => { if (err === null) removed++; resolve(); }); }));
    }
    return removed;
  }

  close(): void {
    this.client.close();
  }
}

/** Addresses in provider URL names (`dubbo%3A%2F%2F10.64.3.1%3A8080%2F…`) and instance names (`10.64.3.1:8080`). */
function hosts(names: readonly string[]): Set<string> {
  return new Set(names.map((n) => {
    const d = decodeURIComponent(n);
    const m = /^[a-z]+:\/\/([^:/]+)/.exec(d) ?? /^([^:]+):/.exec(d);
    return m?.[1] ?? d;
  }));
}

export async function zookeeperExport(s: RouteSettings): Promise<ScaleRoute> {
  const k8sConn = await runningConnection('kubernetes');
  const zkConn = await runningConnection('zookeeper');
  if (k8sConn === undefined || zkConn === undefined) throw new Error('kubernetes and zookeeper must be running (npm run servers -- start kubernetes zookeeper)');
  const chroot = `/isthmus-scale-${s.run}`;
  const side = new CountedKube(k8sConn, s.namespace);
  const workload = new KubeWorkload(side.kube, s);
  const proxy = new TcpCountingProxy(zkConn.host, zkConn.port, zkParser);
  const tree = new Tree(zkConn.connectString);
  let proxyPort = '';
  const apps = async (): Promise<string[]> => tree.children(`${chroot}/services`);

  return {
    name: 'k8s-zookeeper',
    target: proxy,
    others: { kubernetes: side.proxy },
    counting: 'TCP proxy in front of ZooKeeper reading jute packet headers: requests = every client packet (connect and ping included), writes = create/delete/setData/setACL/multi (a multi counts once), pushes = watch events; kubernetes: HTTP proxy in front of the API server',
    async prepare() {
      proxyPort = await proxy.start();
      await tree.open();
      await tree.create(chroot);
      await side.start();
    },
    populate: () => workload.populate(),
    config: (resolverPort) => ({
      bridge: { id: `scale-${s.run}` },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig: side.kubeconfigPath }, namespaces: [s.namespace] },
        zk: { kind: 'dubbo', connect: `127.0.0.1:${proxyPort}${chroot}`, namespace: s.namespace },
      },
      routes: [
        { from: 'k8s', to: 'zk', select: { namespaces: [s.namespace] } },
        { from: 'zk', to: 'k8s', select: { namespaces: [s.namespace] } },
      ],
      resolver: { http: { host: '127.0.0.1', port: resolverPort }, grpc: { enabled: false } },
      log: { level: 'warn' },
    }),
    // Application directories: cheap to poll; details() counts the instances in them.
    servicesInTarget: async () => (await apps()).length,
    async details() {
      let instances = 0;
      let providers = 0;
      let appsWithInstances = 0;
      await pool(await apps(), 16, async (app) => {
        const n = (await tree.children(`${chroot}/services/${app}`)).length;
        instances += n;
        if (n > 0) appsWithInstances++;
        // Read first, then add: `providers += await …` would add to the value read before the await.
        const p = (await tree.children(`${chroot}/dubbo/${app}/providers`)).length;
        providers += p;
      });
      return { instancesInTarget: instances, providersInTarget: providers, servicesWithInstances: appsWithInstances, tcpConnections: proxy.connections, unparsedConnections: proxy.unparsed };
    },
    async rollStep(i) {
      const { changedAt, old, fresh } = await workload.change(i);
      // Polled every 10 ms: both layouts must show the new pod and neither the old one.
      return visibleAfter(changedAt, `pod ${i} of ${ROLL} in ZooKeeper`, async () => {
        const [p, a] = await Promise.all([tree.children(`${chroot}/dubbo/${ROLL}/providers`), tree.children(`${chroot}/services/${ROLL}`)]);
        const ps = hosts(p);
        const as = hosts(a);
        return ps.has(fresh.ip) && as.has(fresh.ip) && !ps.has(old.ip) && !as.has(old.ip);
      }, 10);
    },
    async cleanup() {
      try {
        await side.cleanup();
      } finally {
        await tree.removeTree(chroot);
        tree.close();
      }
    },
  };
}
