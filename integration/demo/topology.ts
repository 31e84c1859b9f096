// The demo's mixed topology: which service lives where "natively" before Isthmus touches
// anything. VM services register in their own registry the way their framework would; pod
// services exist only as a Service + EndpointSlice in Kubernetes. Addresses are documentation
// ranges nobody has to answer on: the demo shows discovery, not calls.

export type Home = 'consul' | 'nacos' | 'dubbo' | 'eureka' | 'kubernetes';
export const REGISTRIES: readonly Home[] = ['kubernetes', 'consul', 'nacos', 'dubbo', 'eureka'];

export interface DemoEndpoint {
  readonly address: string;
  readonly port: number;
  readonly zone: string;
}

export interface DemoService {
  /** Canonical name, which is also the Kubernetes Service name. */
  readonly name: string;
  readonly home: Home;
  /** The name in the home registry when it differs (a Dubbo interface). */
  readonly nativeName?: string;
  readonly endpoints: readonly DemoEndpoint[];
  /** What it stands for, shown under the table. */
  readonly story: string;
  /** Annotations of the Kubernetes Service (pod services only). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Kubernetes namespace of the pod services and of every import. */
export const NAMESPACE = 'isthmus-demo';
/** Consul tag of the demo's VM instances: the shared Consul holds other "orders" too. */
export const DEMO_TAG = 'isthmus-demo';
/** A ZooKeeper root of its own (a Dubbo registry group), so other data under /dubbo stays out. */
export const DUBBO_ROOT = '/isthmus-demo';

export const TOPOLOGY: readonly DemoService[] = [
  {
    name: 'orders',
    home: 'consul',
    endpoints: [
      { address: '192.168.10.11', port: 8080, zone: 'dc1' },
      { address: '192.168.10.12', port: 8080, zone: 'dc1' },
    ],
    story: 'Spring Cloud Consul app on two VMs (tag isthmus-demo)',
  },
  {
    name: 'payments',
    home: 'nacos',
    endpoints: [{ address: '192.168.20.21', port: 8443, zone: 'dc1' }],
    story: 'Spring Cloud Alibaba app on a VM (ephemeral Nacos instance)',
  },
  {
    name: 'inventory',
    home: 'dubbo',
    nativeName: 'org.example.shop.InventoryService',
    endpoints: [{ address: '192.168.30.31', port: 20880, zone: 'dc1' }],
    story: 'Dubbo provider on a VM (ZooKeeper)',
  },
  {
    name: 'catalog',
    home: 'eureka',
    endpoints: [
      { address: '192.168.40.41', port: 8080, zone: 'dc1' },
      { address: '192.168.40.42', port: 8080, zone: 'dc1' },
    ],
    story: 'Spring Cloud Netflix app on two VMs (Eureka lease renewed every 30 s)',
  },
  {
    name: 'orders',
    home: 'kubernetes',
    endpoints: [{ address: '10.244.1.5', port: 8080, zone: 'zone-a' }],
    // Mid-migration: the same service also runs in a pod. The annotation lets Isthmus add the
    // VM endpoints to this user-made Service instead of treating the name as a collision.
    annotations: { 'isthmus.dev/accept-imports': 'true' },
    story: 'mid-migration: also one pod in Kubernetes (Service annotated isthmus.dev/accept-imports)',
  },
  {
    name: 'cart',
    home: 'kubernetes',
    endpoints: [
      { address: '10.244.1.7', port: 8080, zone: 'zone-a' },
      { address: '10.244.2.9', port: 8080, zone: 'zone-b' },
    ],
    story: 'already moved to Kubernetes (two pods)',
  },
];

/** Every service name once, in topology order. */
export const SERVICE_NAMES: readonly string[] = [...new Set(TOPOLOGY.map((s) => s.name))];

/** Whether an address belongs to a VM or a pod of the topology; undefined = not ours. */
export function sideOf(address: string): 'VM' | 'pod' | undefined {
  for (const s of TOPOLOGY) {
    if (s.endpoints.some((e) => e.address === address)) return s.home === 'kubernetes' ? 'pod' : 'VM';
  }
  return undefined;
}

export function homeOf(address: string): Home | undefined {
  return TOPOLOGY.find((s) => s.endpoints.some((e) => e.address === address))?.home;
}
