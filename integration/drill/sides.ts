// The VM-era registry of a drill: how its providers and consumer are configured, how Isthmus
// reaches it, and what a caller of that registry sees. One per framework; the migration itself
// (migration.ts) is the same for all of them.
import { isShardName } from '../../adapters/consul/shards.ts';
import type { ConsulConnection, EurekaConnection, NacosConnection } from '../servers/connections.ts';
import type { Framework } from '../peers/spring/jvm.ts';
import { passingInstances } from './consul-view.ts';
import { upInstances } from './eureka-view.ts';
import { getJson } from './net.ts';

export interface VisibleInstance {
  readonly address: string;
  readonly port: number;
  /** Written by an Isthmus bridge (exported from Kubernetes). */
  readonly exported: boolean;
  /** The weight the drill's VM consumer balances by (undefined: it has none). */
  readonly weight: number | undefined;
}

/**
 * Meta `weight` of the Consul VM providers. A Spring instance without it weighs 1, and pods are
 * weighed against the native instances in whole numbers from 1 to 100 (Consul's Passing scale
 * × model cap), so 10 is what lets 3 pods go from 1/9 to 9× the weight of 3 VMs: 90/10 … 10/90.
 */
export const CONSUL_VM_WEIGHT = 10;

export interface VmSide {
  readonly framework: Framework;
  /** Display name, e.g. "Consul". */
  readonly label: string;
  /** The registry entry of the bridge config (registry id = framework). */
  registry(service: string, namespace: string): Record<string, unknown>;
  providerProperties(ip: string): Record<string, string | number>;
  consumerProperties(): Record<string, string | number>;
  /** How the VM consumer picks among instances (for the report). */
  readonly balancer: string;
  /** Instances a consumer of this registry would call (healthy, enabled). */
  visible(service: string): Promise<VisibleInstance[]>;
  /** After `isthmus cleanup`: remove what cleanup leaves behind for this run's bridge id. */
  afterCleanup(bridgeId: string): Promise<void>;
}

export function consulSide(consul: ConsulConnection): VmSide {
  return {
    framework: 'consul',
    label: 'Consul',
    registry: (service, namespace) => ({ kind: 'consul', address: consul.httpUrl, services: [service], namespace, minWatchIntervalMs: 20 }),
    providerProperties: (ip) => ({
      'spring.cloud.consul.host': consul.host,
      'spring.cloud.consul.port': consul.port,
      'spring.cloud.consul.discovery.ip-address': ip,
      'spring.cloud.consul.discovery.metadata.weight': CONSUL_VM_WEIGHT,
    }),
    consumerProperties: () => ({ 'spring.cloud.consul.host': consul.host, 'spring.cloud.consul.port': consul.port, 'spring.cloud.loadbalancer.configurations': 'weighted' }),
    balancer: 'Spring Cloud LoadBalancer `weighted` configuration (instance Meta `weight`, 1 when absent)',
    visible: async (service) => (await passingInstances(consul.httpUrl, service)).map((i) => ({ address: i.address, port: i.port, exported: i.exported, weight: i.callerWeight })),
    afterCleanup: async (bridgeId) => {
      // `isthmus cleanup` removes the services but may leave empty synthetic nodes (the base
      // node and its shards `<node>_<k>`); the names are unique to this run, so removing them
      // touches nothing else.
      const base = `isthmus-${bridgeId}`;
      const nodes = await fetch(`${consul.httpUrl}/v1/catalog/nodes`).then(async (r) => (await r.json()) as { Node: string }[]).catch(() => []);
      for (const n of nodes.filter((x) => isShardName(base, x.Node))) {
        await fetch(`${consul.httpUrl}/v1/catalog/deregister`, { method: 'PUT', body: JSON.stringify({ Node: n.Node }) }).catch(() => undefined);
      }
    },
  };
}

interface NacosHost {
  ip?: string;
  port?: number;
  healthy?: boolean;
  enabled?: boolean;
  weight?: number;
  metadata?: Record<string, string>;
}

export function nacosSide(nacos: NacosConnection): VmSide {
  return {
    framework: 'nacos',
    label: 'Nacos',
    registry: (service, namespace) => ({ kind: 'nacos', servers: [nacos.serverAddr], services: [service], namespace }),
    providerProperties: (ip) => ({ 'spring.cloud.nacos.discovery.server-addr': nacos.serverAddr, 'spring.cloud.nacos.discovery.ip': ip }),
    consumerProperties: () => ({ 'spring.cloud.nacos.discovery.server-addr': nacos.serverAddr, 'spring.cloud.loadbalancer.nacos.enabled': 'true' }),
    balancer: 'Spring Cloud Alibaba NacosLoadBalancer (`spring.cloud.loadbalancer.nacos.enabled=true`): weighted random over the Nacos instance weight',
    visible: async (service) => {
      const { status, body } = await getJson(`${nacos.baseUrl}/v1/ns/instance/list?serviceName=${encodeURIComponent(service)}&healthyOnly=true`);
      if (status !== 200) throw new Error(`nacos instance list for ${service}: HTTP ${status}`);
      return ((body as { hosts?: NacosHost[] }).hosts ?? [])
        .filter((h) => h.healthy !== false && h.enabled !== false)
        .map((h) => ({
          address: h.ip ?? '',
          port: h.port ?? 0,
          exported: Object.keys(h.metadata ?? {}).some((k) => k.startsWith('isthmus.')),
          weight: h.weight,
        }));
    },
    afterCleanup: () => Promise.resolve(),
  };
}

/**
 * Metadata `weight` of the Eureka VM providers: Spring Cloud LoadBalancer's `weighted`
 * configuration reads it exactly as for Consul (an integer, 1 when absent), so the same scale
 * argument applies (see CONSUL_VM_WEIGHT); the adapter decides what it writes on pods.
 */
export const EUREKA_VM_WEIGHT = CONSUL_VM_WEIGHT;

export function eurekaSide(eureka: EurekaConnection): VmSide {
  // The Spring client takes a list of service URLs, each ending with a slash.
  const serviceUrl = `${eureka.baseUrl}/`;
  return {
    framework: 'eureka',
    label: 'Eureka',
    // `services` are globs of lower-case application names (Eureka itself upper-cases them).
    // fetchIntervalMs: the default 5 s delta fetch would let a retired VM provider stay in the
    // slices past its 5 s drain. emptyAnswer 'apply': retiring the last VM provider is planned
    // here, as the route's deleteGuard says, not an outage to hold through.
    registry: (service, namespace) => ({ kind: 'eureka', servers: [eureka.baseUrl], services: [service], namespace, fetchIntervalMs: 500, emptyAnswer: 'apply' }),
    providerProperties: (ip) => ({
      'eureka.client.service-url.defaultZone': serviceUrl,
      'eureka.instance.ip-address': ip,
      'eureka.instance.metadata-map.weight': EUREKA_VM_WEIGHT,
    }),
    consumerProperties: () => ({ 'eureka.client.service-url.defaultZone': serviceUrl, 'spring.cloud.loadbalancer.configurations': 'weighted' }),
    balancer: 'Spring Cloud LoadBalancer `weighted` configuration (instance metadata `weight`, 1 when absent) over the UP instances of a 1 s Eureka registry fetch',
    visible: (service) => upInstances(eureka.baseUrl, service),
    // `isthmus cleanup` cancels the bridge's leases; anything it missed expires with its lease.
    afterCleanup: () => Promise.resolve(),
  };
}
