// What tests and tools get to reach each server. Plain JSON-serialisable data: it travels from
// the global setup to test workers through vitest's provide/inject and a JSON file in the run dir.

export const SERVER_NAMES = ['kubernetes', 'consul', 'nacos', 'zookeeper', 'eureka'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export interface KubernetesConnection {
  readonly version: string;
  /** e.g. https://127.0.0.1:6443 */
  readonly server: string;
  /** Static admin token (user isthmus-admin, group system:masters). */
  readonly token: string;
  /** PEM bundle that verifies the apiserver's self-signed serving certificate. */
  readonly caFile: string;
  /** kubeconfig using server, token and caFile; context "isthmus". */
  readonly kubeconfigPath: string;
  readonly etcdUrl: string;
  /** Issuer of ServiceAccount tokens minted through TokenRequest. */
  readonly serviceAccountIssuer: string;
}

export interface ConsulConnection {
  readonly version: string;
  readonly host: string;
  readonly port: number;
  /** host:port, the form most clients take. */
  readonly address: string;
  readonly httpUrl: string;
  readonly grpcPort: number;
  /** Dev mode: ACLs off, so no token. */
  readonly token: null;
}

export interface NacosConnection {
  readonly version: string;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** host:httpPort, the nacos-client "serverAddr" form. */
  readonly serverAddr: string;
  /** Base of the open API, e.g. http://127.0.0.1:8848/nacos (append /v2/ns/instance ...). */
  readonly baseUrl: string;
  /** Auth is off in the test server; null credentials mean "send none". */
  readonly username: string | null;
  readonly password: string | null;
}

export interface ZooKeeperConnection {
  readonly version: string;
  readonly host: string;
  readonly port: number;
  /** e.g. 127.0.0.1:2181 */
  readonly connectString: string;
}

export interface EurekaConnection {
  readonly version: string;
  readonly host: string;
  readonly port: number;
  /** Spring Cloud's Jersey prefix included, e.g. http://127.0.0.1:8761/eureka (append /apps ...). */
  readonly baseUrl: string;
}

export interface ConnectionByServer {
  kubernetes: KubernetesConnection;
  consul: ConsulConnection;
  nacos: NacosConnection;
  zookeeper: ZooKeeperConnection;
  eureka: EurekaConnection;
}

/** The started subset; a key is absent when that server was not selected. */
export type ServerConnections = Partial<ConnectionByServer>;

export function parseServerNames(list: readonly string[]): ServerName[] {
  if (list.length === 0 || (list.length === 1 && list[0] === 'all')) return [...SERVER_NAMES];
  const names: ServerName[] = [];
  for (const raw of list) {
    const name = raw.trim();
    if (name === '') continue;
    if (!(SERVER_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown server "${name}"; expected one of ${SERVER_NAMES.join(', ')} or "all"`);
    }
    if (!names.includes(name as ServerName)) names.push(name as ServerName);
  }
  return names;
}
