// The bridge configuration the demo runs: one registry per real server and routes VM registries
// → Kubernetes, Kubernetes → each VM registry. Built from the harness's connection info so it
// works on whatever ports the harness picked; deploy/examples/mixed.yaml is this for the defaults.
import type { ConnectionByServer } from '../servers/index.ts';
import { DEMO_TAG, DUBBO_ROOT, NAMESPACE, TOPOLOGY } from './topology.ts';

export interface DemoConfigOptions {
  readonly bridgeId: string;
  readonly resolverPort: number;
  readonly logLevel: string;
}

export type DemoConnections = Pick<ConnectionByServer, 'kubernetes' | 'consul' | 'nacos' | 'zookeeper' | 'eureka'>;

function namesOf(home: string): string[] {
  return [...new Set(TOPOLOGY.filter((s) => s.home === home).map((s) => s.nativeName ?? s.name))];
}

export function demoConfig(conn: DemoConnections, o: DemoConfigOptions): Record<string, unknown> {
  const dubboNames = Object.fromEntries(TOPOLOGY.filter((s) => s.home === 'dubbo').map((s) => [s.nativeName ?? s.name, s.name]));
  return {
    bridge: { id: o.bridgeId },
    registries: {
      k8s: {
        kind: 'kubernetes',
        connection: { kubeconfig: conn.kubernetes.kubeconfigPath, context: 'isthmus' },
        namespaces: [NAMESPACE],
        source: { services: [`${NAMESPACE}/*`] },
      },
      consul: {
        kind: 'consul',
        address: conn.consul.httpUrl,
        namespace: NAMESPACE,
        // Only the demo's own VM services: the shared test servers hold other data too.
        services: namesOf('consul'),
        tags: [DEMO_TAG],
      },
      nacos: {
        kind: 'nacos',
        servers: [conn.nacos.serverAddr],
        namespace: NAMESPACE,
        services: namesOf('nacos'),
      },
      dubbo: {
        kind: 'dubbo',
        connect: conn.zookeeper.connectString,
        root: DUBBO_ROOT,
        servicesRoot: `${DUBBO_ROOT}-services`,
        stateRoot: `${DUBBO_ROOT}-state`,
        namespace: NAMESPACE,
        import: ['interface'],
        names: dubboNames,
      },
      eureka: {
        kind: 'eureka',
        servers: [conn.eureka.baseUrl],
        namespace: NAMESPACE,
        // Globs of lower-case application names: only the demo's VM app, not other apps on the server.
        services: namesOf('eureka'),
      },
    },
    routes: [
      { from: ['consul', 'nacos', 'dubbo', 'eureka'], to: 'k8s' },
      { from: 'k8s', to: ['consul', 'nacos', 'dubbo', 'eureka'] },
    ],
    resolver: { http: { host: '127.0.0.1', port: o.resolverPort } },
    log: { level: o.logLevel },
  };
}
