// WorkloadEntries as endpoints of the Services selecting them: matching, Istio's port
// resolution, the health rule, our own entries skipped, bad addresses quarantined.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endpointProblem } from '../../bridge/model/index.ts';
import { serviceToSnapshot } from './convert.ts';
import { K8S } from './markers.ts';
import type { KubernetesSourceOptions } from './options.ts';
import type { KService, KSliceEndpoint } from './types.ts';
import { ENTRY_META, entryHealthy, entryLabels, entryPorts, ISTIO_ENTRY, type KWorkloadEntryRead, selectsEntry } from './workload-entries.ts';

const OPTS: KubernetesSourceOptions = { services: [], excludeNamespaces: ['kube-system'], labels: {}, annotations: {}, addressMode: 'podIP', nodeAddressType: 'InternalIP', watchNodes: false, istio: { mtlsPreflight: false, workloadEntries: true, rootNamespace: 'istio-system' } };

function svc(spec: Partial<NonNullable<KService['spec']>> = {}): KService {
  return { metadata: { name: 'orders', namespace: 'shop' }, spec: { selector: { app: 'orders' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 9090, targetPort: 9090 }], ...spec } };
}

/** An entry as istiod auto-registers it: group annotations, labels from the WorkloadGroup template. */
function entry(name: string, address: string, over: { spec?: Partial<NonNullable<KWorkloadEntryRead['spec']>>; labels?: Record<string, string>; annotations?: Record<string, string>; healthy?: string; namespace?: string } = {}): KWorkloadEntryRead {
  return {
    metadata: {
      name,
      namespace: over.namespace ?? 'shop',
      labels: { app: 'orders', ...over.labels },
      annotations: { [ISTIO_ENTRY.autoRegistrationGroup]: 'orders-vms', [ISTIO_ENTRY.workloadController]: 'istiod-1', ...over.annotations },
    },
    spec: { address, labels: { app: 'orders' }, serviceAccount: 'orders', ...over.spec },
    ...(over.healthy === undefined ? {} : { status: { conditions: [{ type: 'Healthy', status: over.healthy }] } }),
  };
}

function convert(entries: KWorkloadEntryRead[], service = svc(), pods: KSliceEndpoint[] = []) {
  const slices = pods.length === 0 ? [] : [{ metadata: { name: 'orders-x', namespace: 'shop', labels: { [K8S.serviceName]: 'orders' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9090 }], endpoints: pods }];
  const r = serviceToSnapshot({ registry: 'k8s', service, slices, options: OPTS, node: () => undefined, workloadEntries: entries });
  return { endpoints: r.snapshot?.endpoints ?? [], problems: Object.fromEntries(r.problems.map((p) => [p.nativeId, p.reason])) };
}

describe('WorkloadEntries as Service endpoints', () => {
  it('exports a selected entry with its address, ports, weight, locality, origin and VM marker', () => {
    const { endpoints, problems } = convert([entry('orders-10.0.5.1', '10.0.5.1', { spec: { weight: 3, locality: 'eu-west/eu-west-1b/rack7', network: 'vm-net' } })]);
    expect(problems).toEqual({});
    expect(endpoints).toEqual([{
      address: '10.0.5.1',
      ports: { http: 8080, grpc: 9090 },
      ready: true,
      serving: true,
      terminating: false,
      weight: 300,
      zone: 'eu-west-1b',
      metadata: { [ENTRY_META.side]: 'vm', [ENTRY_META.entry]: 'orders-10.0.5.1', [ENTRY_META.group]: 'orders-vms', [ENTRY_META.locality]: 'eu-west/eu-west-1b/rack7', [ENTRY_META.network]: 'vm-net', [ENTRY_META.serviceAccount]: 'orders' },
      origin: { registry: 'k8s', nativeId: 'workloadentry/shop/orders-10.0.5.1' },
    }]);
    expect(endpointProblem(endpoints[0]!)).toBeUndefined();
  });

  it('matches the Service selector against spec and metadata labels (metadata wins), same namespace only', () => {
    expect(entryLabels(entry('a', '10.0.5.1', { spec: { labels: { app: 'spec', tier: 'x' } }, labels: { app: 'meta' } }))).toEqual({ app: 'meta', tier: 'x' });
    expect(selectsEntry({ app: 'orders' }, { app: 'orders', version: 'v1' })).toBe(true);
    expect(selectsEntry({ app: 'orders', version: 'v2' }, { app: 'orders', version: 'v1' })).toBe(false);
    expect(selectsEntry({}, { app: 'orders' })).toBe(false); // selectorless Service
    expect(selectsEntry(undefined, { app: 'orders' })).toBe(false);
    expect(selectsEntry({ app: 'orders' }, {})).toBe(false);
    const { endpoints } = convert([
      entry('match', '10.0.5.1'),
      entry('other-app', '10.0.5.2', { labels: { app: 'billing' }, spec: { labels: { app: 'billing' } } }),
      entry('other-ns', '10.0.5.3', { namespace: 'pay' }),
      // Only the metadata label says orders: Istio merges it in, so it is selected.
      entry('meta-only', '10.0.5.4', { spec: { labels: {} } }),
    ]);
    expect(endpoints.map((e) => e.origin.nativeId)).toEqual(['workloadentry/shop/match', 'workloadentry/shop/meta-only']);
    // A headless Service gets no entries in Istio, nor here; a selectorless one neither.
    expect(convert([entry('match', '10.0.5.1')], svc({ clusterIP: 'None' })).endpoints).toEqual([]);
    expect(convert([entry('match', '10.0.5.1')], svc({ selector: {} })).endpoints).toEqual([]);
  });

  it('resolves ports as Istio does: entry port by Service port name over a numeric targetPort; a named targetPort only from the entry', () => {
    const ports = [
      { given: 'http', exportName: 'http', port: 80, targetPort: 8080 },
      { given: 'grpc', exportName: 'grpc', port: 9090, targetPort: 'grpc-port' },
      { given: 'admin', exportName: 'admin', port: 9000, targetPort: 'admin-port' },
      { given: undefined, exportName: 'default', port: 7000 },
      { given: 'dns', exportName: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
    ];
    expect(entryPorts(ports, entry('a', '10.0.5.1', { spec: { ports: { http: 18080, 'grpc-port': 19090 } } }))).toEqual({ http: 18080, grpc: 19090, default: 7000 });
    expect(entryPorts(ports, entry('a', '10.0.5.1'))).toEqual({ http: 8080, default: 7000 });
    // Through the converter: an unnamed single port, and the primary port first.
    const single = convert([entry('a', '10.0.5.1', { spec: { ports: { web: 1234 } } })], svc({ ports: [{ port: 80, targetPort: 8080 }] }));
    expect(single.endpoints[0]?.ports).toEqual({ default: 8080 });
    const none = convert([entry('a', '10.0.5.1')], svc({ ports: [{ name: 'grpc', port: 9090, targetPort: 'grpc-port' }] }));
    expect(none.endpoints).toEqual([]);
    expect(none.problems['workloadentry/shop/a']).toMatch(/no Service port resolves/);
  });

  it('health: with health checks enabled, ready only when Healthy=True; without them always ready', () => {
    const checked = { [ISTIO_ENTRY.healthChecks]: 'true' };
    expect(entryHealthy(entry('a', '10.0.5.1', { annotations: checked, healthy: 'True' }))).toBe(true);
    expect(entryHealthy(entry('a', '10.0.5.1', { annotations: checked, healthy: 'False' }))).toBe(false);
    // A fresh auto-registered entry: no probe result yet, so not ready (Istio's default).
    expect(entryHealthy(entry('a', '10.0.5.1', { annotations: checked }))).toBe(false);
    expect(entryHealthy(entry('a', '10.0.5.1'))).toBe(true);
    // Istio ignores the condition unless the entry opts in (annotation true in ParseBool's spellings).
    expect(entryHealthy(entry('a', '10.0.5.1', { healthy: 'False' }))).toBe(true);
    expect(entryHealthy(entry('a', '10.0.5.1', { annotations: { [ISTIO_ENTRY.healthChecks]: 'false' }, healthy: 'False' }))).toBe(true);
    expect(entryHealthy(entry('a', '10.0.5.1', { annotations: { [ISTIO_ENTRY.healthChecks]: '1' }, healthy: 'False' }))).toBe(false);
    const { endpoints } = convert([entry('down', '10.0.5.1', { annotations: checked, healthy: 'False' }), entry('up', '10.0.5.2', { annotations: checked, healthy: 'True' })]);
    expect(endpoints.map((e) => [e.address, e.ready, e.serving, e.terminating])).toEqual([['10.0.5.1', false, false, false], ['10.0.5.2', true, true, false]]);
  });

  it('never exports an entry carrying any Isthmus marker (what the sink\'s Istio mode writes)', () => {
    const ours = (name: string, address: string, bridge: string): KWorkloadEntryRead => {
      const we = entry(name, address, { labels: { [K8S.managedBy]: bridge, [K8S.origin]: 'nacos' }, annotations: { [K8S.managedBy]: bridge } });
      return we;
    };
    const annotatedOnly = entry('anno', '10.0.5.9', { annotations: { [K8S.managedBy]: 'other-bridge' } });
    const { endpoints, problems } = convert([ours('isthmus-a', '10.0.5.7', 'this-bridge'), ours('isthmus-b', '10.0.5.8', 'other-bridge'), annotatedOnly, entry('vm', '10.0.5.1')]);
    expect(endpoints.map((e) => e.address)).toEqual(['10.0.5.1']);
    expect(problems).toEqual({});
  });

  it('quarantines a DNS-name, empty or scoped address, or one a pod already has, and keeps the rest', () => {
    const { endpoints, problems } = convert([
      entry('dns', 'orders-vm.example.internal'),
      entry('gw', ''),
      entry('zone', 'fe80::1%eth0'),
      entry('dup-pod', '10.1.0.1'),
      entry('good', '10.0.5.1'),
      entry('good-v6', '2001:db8::5'),
      entry('z-dup-entry', '10.0.5.1'),
    ], svc(), [{ addresses: ['10.1.0.1'], conditions: { ready: true } }]);
    expect(endpoints.map((e) => e.address)).toEqual(['10.0.5.1', '10.1.0.1', '2001:db8::5']);
    expect(endpoints.find((e) => e.address === '10.1.0.1')?.metadata[ENTRY_META.side]).toBeUndefined(); // the pod, not the entry
    expect(problems['workloadentry/shop/dns']).toMatch(/"orders-vm\.example\.internal" is not an IP/);
    expect(problems['workloadentry/shop/gw']).toMatch(/no address/);
    expect(problems['workloadentry/shop/zone']).toMatch(/IPv6 zone/);
    expect(problems['workloadentry/shop/dup-pod']).toMatch(/already exported/);
    expect(problems['workloadentry/shop/z-dup-entry']).toMatch(/already exported/);
  });

  it('weight on Istio\'s scale (unset = 1 = a pod): absent or 0 is neutral, N is N pods\' worth, capped', () => {
    const { endpoints } = convert([entry('a', '10.0.5.1', { spec: { weight: 0 } }), entry('b', '10.0.5.2', { spec: { weight: 2 } }), entry('c', '10.0.5.3', { spec: { weight: 50_000 } }), entry('d', '10.0.5.4')]);
    expect(endpoints.map((e) => e.weight)).toEqual([100, 200, 10_000, 100]);
  });

  it('hostile entries: nothing throws, the Service is never lost, every endpoint passes the model checks, ours never appear', () => {
    const hostile = fc.record({
      name: fc.string({ maxLength: 20 }),
      labels: fc.oneof(fc.constant({ app: 'orders' }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), fc.anything()),
      ours: fc.boolean(),
      address: fc.oneof(fc.constantFrom('10.0.5.1', '2001:db8::1', '', 'vm.example', 'fe80::1%eth0', '::ffff:10.0.0.1'), fc.string(), fc.anything()),
      ports: fc.oneof(fc.dictionary(fc.constantFrom('http', 'grpc', 'grpc-port', 'x'), fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.double())), fc.anything()),
      weight: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), fc.anything()),
      locality: fc.oneof(fc.string(), fc.anything()),
      status: fc.anything(),
      annotations: fc.oneof(fc.constant({ [ISTIO_ENTRY.healthChecks]: 'true' }), fc.constant({})),
    });
    fc.assert(fc.property(fc.array(hostile, { maxLength: 6 }), (list) => {
      const entries = list.map((h, i) => ({
        metadata: { name: `${i}${h.name}`, namespace: 'shop', labels: { ...(h.ours ? { [K8S.managedBy]: 'b' } : {}) }, annotations: h.annotations },
        spec: { address: h.address, labels: h.labels, ports: h.ports, weight: h.weight, locality: h.locality },
        status: h.status,
      }) as unknown as KWorkloadEntryRead);
      const r = serviceToSnapshot({ registry: 'k8s', service: svc({ ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 9090, targetPort: 'grpc-port' }] }), slices: [], options: OPTS, node: () => undefined, workloadEntries: entries });
      expect(r.snapshot).toBeDefined();
      for (const ep of r.snapshot?.endpoints ?? []) {
        expect(endpointProblem(ep)).toBeUndefined();
        expect(entries.find((we) => `workloadentry/shop/${we.metadata?.name ?? ''}` === ep.origin.nativeId)?.metadata?.labels?.[K8S.managedBy]).toBeUndefined();
      }
      expect(new Set(r.snapshot?.endpoints.map((ep) => ep.address)).size).toBe(r.snapshot?.endpoints.length);
    }), { numRuns: 2000 });
  });

  it('without the option (no entries passed) nothing changes', () => {
    const r = serviceToSnapshot({ registry: 'k8s', service: svc(), slices: [], options: OPTS, node: () => undefined });
    expect(r.snapshot?.endpoints).toEqual([]);
  });
});
