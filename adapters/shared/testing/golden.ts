// The input of the Nacos and Eureka golden tests, which pin what each sink writes for it. Both
// registries carry our markers as instance metadata under the same keys (DESIGN §6), so one
// endpoint that sets every field, and one list of those keys, serve both.
import type { Endpoint, ServiceRef } from '../../../bridge/model/index.ts';

export const GOLDEN_REF: ServiceRef = { namespace: 'shop', name: 'orders' };

/** Not ready yet serving and terminating, and a user key that looks like a marker. */
export const GOLDEN_ENDPOINT: Endpoint = {
  address: '10.1.2.3',
  ports: { http: 8080, metrics: 9090 },
  protocol: 'grpc',
  ready: false,
  serving: true,
  terminating: true,
  weight: 250,
  zone: 'z1',
  node: 'n1',
  metadata: { app: 'orders', 'isthmus.team': 'a' },
  origin: { registry: 'k8s', nativeId: 'shop/orders-7f9c/10.1.2.3' },
};

/** The instance metadata marker keys as released: renaming one orphans what older versions wrote. */
export const METADATA_MARKER_KEYS = {
  managedBy: 'isthmus.managed-by',
  origin: 'isthmus.origin',
  originId: 'isthmus.origin-id',
  namespace: 'isthmus.ns',
  ports: 'isthmus.ports',
  conditions: 'isthmus.conditions',
  weight: 'isthmus.weight',
  protocol: 'isthmus.protocol',
  zone: 'isthmus.zone',
  node: 'isthmus.node',
} as const;
