// Reads what each registry holds for the demo's services, natively (the way that registry's
// clients would see it), plus what the bridge's resolver answers. Each read fails on its own:
// one unreachable registry shows as an error line, not as an empty column.
import { ZkClient, javaUrlDecode, javaUrlEncode, parseDubboUrl } from '../../adapters/dubbo/index.ts';
import { NO_NODE, zkCode } from '../../adapters/dubbo/client.ts';
import { EurekaClient } from '../../adapters/eureka/client.ts';
import { asArray, portEnabled, portNumber } from '../../adapters/eureka/native.ts';
import type { DemoConnections } from './config.ts';
import type { Kube } from '../drill/kube.ts';
import { DUBBO_ROOT, NAMESPACE, REGISTRIES, SERVICE_NAMES, TOPOLOGY, type Home } from './topology.ts';

/** Column → service name → "address:port" list. */
export type Column = Home | 'resolver';
export type Observation = Map<Column, Map<string, string[]> | Error>;

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class Observer {
  readonly #conn: DemoConnections;
  readonly #kube: Kube;
  readonly #resolverUrl: string;
  readonly #zk: ZkClient;
  readonly #eureka: EurekaClient;

  constructor(conn: DemoConnections, kube: Kube, resolverUrl: string) {
    this.#conn = conn;
    this.#kube = kube;
    this.#resolverUrl = resolverUrl;
    this.#zk = new ZkClient({ connect: conn.zookeeper.connectString, sessionTimeoutMs: 10_000, requestTimeoutMs: 5_000, registry: 'demo-observer' });
    this.#zk.start();
    this.#eureka = new EurekaClient({ registry: 'demo-observer', servers: [conn.eureka.baseUrl], requestTimeoutMs: 5_000 });
  }

  close(): void {
    this.#zk.close();
  }

  async observe(): Promise<Observation> {
    // One full fetch per frame, as a Eureka client starts with, shared by every service's cell.
    let eurekaApps: Promise<Map<string, string[]>> | undefined;
    const readers: Record<Column, (name: string, nativeName: string) => Promise<string[]>> = {
      kubernetes: (n) => this.#kubernetes(n),
      consul: (n) => this.#consul(n),
      nacos: (n) => this.#nacos(n),
      dubbo: (_n, native) => this.#dubbo(native),
      eureka: async (_n, native) => (await (eurekaApps ??= this.#eurekaApps())).get(native.toUpperCase()) ?? [],
      resolver: (n) => this.#resolver(n),
    };
    const out: Observation = new Map();
    await Promise.all([...REGISTRIES, 'resolver' as const].map(async (col) => {
      try {
        const byService = new Map<string, string[]>();
        for (const name of SERVICE_NAMES) {
          // Exports keep the canonical name; only the home registry may call it something else.
          const native = TOPOLOGY.find((s) => s.name === name && s.home === col)?.nativeName ?? name;
          byService.set(name, (await readers[col](name, native)).sort());
        }
        out.set(col, byService);
      } catch (err) {
        out.set(col, asError(err));
      }
    }));
    return out;
  }

  async #kubernetes(name: string): Promise<string[]> {
    const selector = encodeURIComponent(`kubernetes.io/service-name=${name}`);
    const body = await this.#kube.must('GET', `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices?labelSelector=${selector}`);
    const items = (body['items'] ?? []) as { ports?: { port?: number }[]; endpoints?: { addresses: string[] }[] }[];
    return items.flatMap((slice) => (slice.endpoints ?? []).map((e) => `${e.addresses[0] ?? '?'}:${slice.ports?.[0]?.port ?? '?'}`));
  }

  async #consul(name: string): Promise<string[]> {
    const res = await fetch(`${this.#conn.consul.httpUrl}/v1/health/service/${encodeURIComponent(name)}`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`consul: HTTP ${res.status}`);
    const entries = (await res.json()) as { Service: { Address: string; Port: number } }[];
    return entries.map((e) => `${e.Service.Address}:${e.Service.Port}`);
  }

  async #nacos(name: string): Promise<string[]> {
    const q = new URLSearchParams({ serviceName: name, groupName: 'DEFAULT_GROUP', namespaceId: 'public' });
    const res = await fetch(`${this.#conn.nacos.baseUrl}/v2/ns/instance/list?${q.toString()}`, { signal: AbortSignal.timeout(5000) });
    // Nacos answers an unknown service with an error code, not an empty list.
    if (!res.ok) return [];
    const reply = (await res.json()) as { data?: { hosts?: { ip: string; port: number }[] } };
    return (reply.data?.hosts ?? []).map((h) => `${h.ip}:${h.port}`);
  }

  async #dubbo(iface: string): Promise<string[]> {
    let nodes: string[];
    try {
      nodes = await this.#zk.getChildren(`${DUBBO_ROOT}/${javaUrlEncode(iface)}/providers`);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return [];
      throw err;
    }
    return nodes.flatMap((node) => {
      const parsed = parseDubboUrl(javaUrlDecode(node) ?? '');
      return parsed.ok ? [`${parsed.url.host}:${parsed.url.port}`] : [];
    });
  }

  /** Application name (upper-case, as Eureka keeps it) → every instance, whatever its status. */
  async #eurekaApps(): Promise<Map<string, string[]>> {
    const { body } = await this.#eureka.applications();
    const out = new Map<string, string[]>();
    for (const app of asArray(body.application)) {
      const eps = asArray(app.instance).map((i) => `${i.ipAddr ?? i.hostName ?? '?'}:${(portEnabled(i.port) ? portNumber(i.port) : portNumber(i.securePort)) ?? '?'}`);
      out.set((app.name ?? '').toUpperCase(), eps);
    }
    return out;
  }

  async #resolver(name: string): Promise<string[]> {
    const res = await fetch(`${this.#resolverUrl}/v1/services/${NAMESPACE}/${name}`, { signal: AbortSignal.timeout(5000) });
    if (res.status === 404) return [];
    if (!res.ok) throw new Error(`resolver: HTTP ${res.status}`);
    const entry = (await res.json()) as { endpoints: { address: string; ports: Record<string, number> }[] };
    return entry.endpoints.map((e) => `${e.address}:${Object.values(e.ports)[0] ?? '?'}`);
  }
}
