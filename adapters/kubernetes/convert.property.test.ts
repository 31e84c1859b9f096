// Property-based: hostile Kubernetes objects through the source converter, and hostile model
// snapshots through the sink's pure planning. Neither may throw; everything produced must be
// carriable (refs, endpoints) or writable (DNS names, ports); everything else is reported.
import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey, endpointProblem, isDns1035, refProblem, toDns1035 } from '../../bridge/model/index.ts';
import { sliceAddressProblem } from './addresses.ts';
import { serviceToSnapshot } from './convert.ts';
import { K8S } from './markers.ts';
import type { KubernetesSourceOptions } from './options.ts';
import { type KubeSinkPlan, type KubeSinkState, observedOf, ownerOf, planImport } from './sink-plan.ts';
import type { KEndpointSlice, KNode, KService } from './types.ts';

// Hostile text: `/`, control characters, unicode, empty and oversized strings, prototype keys.
const hostile = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom('', '/', 'a/b', 'a\u0000b', 'tab\tname', '\u007f', 'ünï.cödé', '__proto__', 'constructor', 'x'.repeat(600), '..', 'com.shop.OrderService') },
  { weight: 1, arbitrary: fc.string({ minLength: 500, maxLength: 700 }) },
);
const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/);
const name = fc.oneof({ weight: 3, arbitrary: dnsLabel }, { weight: 2, arbitrary: hostile });
const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.domain(), fc.constantFrom('', 'not-an-ip', '999.1.1.1', '::ffff:10.0.0.1', 'fe80::1%eth0', '127.0.0.1', '2001:DB8::1', '169.254.0.9'), hostile);
const portNumber = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 65535 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 65536, 1.5, Number.NaN) });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const dict = fc.dictionary(hostile, hostile, { maxKeys: 4 });
const markers = fc.constantFrom<Record<string, string>>({}, {}, { [K8S.exportPort]: 'grpc' }, { [K8S.exportPort]: 'x/y' }, { [K8S.addressMode]: 'nodePort' }, { [K8S.addressMode]: 'loadBalancer' }, { [K8S.addressMode]: 'gateway' }, { [K8S.addressMode]: '∅' }, { [K8S.managedBy]: 'other' });

// Optional fields are sometimes present as `undefined`, as JSON.parse never produces but a
// hand-built object might: the casts below say so.
const service = fc.record({
  metadata: fc.record({ name, namespace: name, resourceVersion: maybe(fc.string({ maxLength: 4 })), labels: maybe(dict), annotations: fc.tuple(dict, markers).map(([a, m]) => ({ ...a, ...m })) }, { requiredKeys: ['annotations'] }),
  spec: fc.record({
    type: maybe(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'Weird')),
    ports: maybe(fc.array(fc.record({ name: maybe(fc.oneof(dnsLabel, hostile)), port: portNumber, nodePort: maybe(portNumber), appProtocol: maybe(hostile) }, { requiredKeys: ['port'] }), { maxLength: 3 })),
  }, { requiredKeys: [] }),
  status: maybe(fc.record({ loadBalancer: fc.record({ ingress: fc.array(fc.record({ ip: maybe(address), hostname: maybe(hostile) }, { requiredKeys: [] }), { maxLength: 2 }) }) })),
}, { requiredKeys: ['metadata'] }) as unknown as fc.Arbitrary<KService>;

const conditions = fc.record({ ready: maybe(fc.boolean()), serving: maybe(fc.boolean()), terminating: maybe(fc.boolean()) }, { requiredKeys: [] });
const sliceEndpoint = fc.record({
  addresses: fc.array(address, { maxLength: 2 }),
  conditions: maybe(conditions),
  nodeName: maybe(name),
  zone: maybe(hostile),
  targetRef: maybe(fc.record({ kind: fc.constantFrom('Pod', 'Other'), name: maybe(name) }, { requiredKeys: ['kind'] })),
}, { requiredKeys: ['addresses'] });
const slice = fc.record({
  metadata: fc.record({ name, labels: fc.constantFrom<Record<string, string>>({}, { [K8S.sliceManagedBy]: K8S.sliceController }, { [K8S.managedBy]: 'b1' }, {}, {}) }),
  addressType: fc.constantFrom('IPv4', 'IPv6', 'FQDN', 'bogus'),
  ports: maybe(fc.array(fc.record({ name: maybe(fc.oneof(dnsLabel, hostile)), port: maybe(portNumber) }, { requiredKeys: [] }), { maxLength: 3 })),
  endpoints: maybe(fc.array(sliceEndpoint, { maxLength: 4 })),
}, { requiredKeys: ['metadata', 'addressType'] }) as unknown as fc.Arbitrary<KEndpointSlice>;

const options: fc.Arbitrary<KubernetesSourceOptions> = fc.record({
  services: fc.constant([]),
  excludeNamespaces: fc.constant(['kube-system']),
  labels: fc.constant({}),
  annotations: fc.constant({}),
  addressMode: fc.constantFrom('podIP', 'podIP', 'nodePort', 'loadBalancer', 'gateway'),
  nodeAddressType: fc.constant('InternalIP'),
  watchNodes: fc.constant(false),
  istio: fc.constant({ mtlsPreflight: false, workloadEntries: false, rootNamespace: 'istio-system' }),
  gateway: maybe(fc.record({ address, ports: fc.dictionary(dnsLabel, portNumber, { maxKeys: 2 }) })),
}, { requiredKeys: ['services', 'excludeNamespaces', 'labels', 'annotations', 'addressMode', 'nodeAddressType', 'watchNodes', 'istio'] }) as fc.Arbitrary<KubernetesSourceOptions>;
const nodeAddress = fc.oneof(address, fc.constant(undefined));

describe('kubernetes → model, property-based', () => {
  it('never throws; every ref and endpoint passes the model checks; bad records are reported', () => {
    let objects = 0;
    let converted = 0;
    let refused = 0;
    fc.assert(
      fc.property(service, fc.array(slice, { maxLength: 3 }), options, nodeAddress, (svc, slices, opts, nodeIp) => {
        objects += 1 + slices.length;
        const node = (n: string): KNode | undefined => (nodeIp === undefined ? undefined : { metadata: { name: n }, status: { addresses: [{ type: 'InternalIP', address: nodeIp }] } });
        const r = serviceToSnapshot({ registry: 'k8s', service: svc, slices, options: opts, node });
        const meta = svc.metadata ?? {};
        const ref = { namespace: meta.namespace ?? '', name: meta.name ?? '' };
        const eligible = !('isthmus.dev/managed-by' in (meta.annotations ?? {})) && svc.spec?.type !== 'ExternalName';
        if (r.snapshot === undefined) {
          if (eligible && refProblem(ref) !== undefined) expect(r.problems.map((p) => p.reason).join('|')).toBe(refProblem(ref));
          return;
        }
        expect(refProblem(r.snapshot.ref)).toBeUndefined();
        for (const ep of r.snapshot.endpoints) expect(endpointProblem(ep), JSON.stringify(ep)).toBeUndefined();
        converted += r.snapshot.endpoints.length;
        refused += r.problems.length;
        // In podIP mode every native endpoint that is not an IP shows up as a problem.
        const mode = meta.annotations?.[K8S.addressMode] ?? opts.addressMode;
        if (mode === 'podIP') {
          const nonIp = slices
            .filter((s) => s.metadata?.labels?.[K8S.sliceManagedBy] !== K8S.sliceController && s.metadata?.labels?.[K8S.managedBy] === undefined)
            .filter((s) => s.addressType === 'IPv4' || s.addressType === 'IPv6')
            .flatMap((s) => s.endpoints ?? [])
            .filter((e) => e.addresses[0] !== undefined && isIP(e.addresses[0]) === 0);
          expect(r.problems.filter((p) => p.reason.includes('is not an IP')).length).toBeGreaterThanOrEqual(nonIp.length);
        }
      }),
      { numRuns: 5000 },
    );
    expect(objects).toBeGreaterThanOrEqual(5000);
    expect(converted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('quarantines a Service whose identity cannot be a ref, and converts a known-good one', () => {
    const good: KService = { metadata: { name: 'orders', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } };
    const pods: KEndpointSlice = { metadata: { name: 'orders-1', labels: { [K8S.serviceName]: 'orders' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: false, serving: false, terminating: false } }] };
    const opts: KubernetesSourceOptions = { services: [], excludeNamespaces: [], labels: {}, annotations: {}, addressMode: 'podIP', nodeAddressType: 'InternalIP', watchNodes: false, istio: { mtlsPreflight: false, workloadEntries: false, rootNamespace: 'istio-system' } };
    const ok = serviceToSnapshot({ registry: 'k8s', service: good, slices: [pods], options: opts, node: () => undefined });
    expect(ok.snapshot?.endpoints.map((e) => [e.address, e.ports, e.ready, e.serving, e.terminating])).toEqual([['10.1.0.1', { http: 8080 }, false, false, false]]);
    for (const bad of ['a/b', '', 'x'.repeat(600), 'tab\tname']) {
      const r = serviceToSnapshot({ registry: 'k8s', service: { ...good, metadata: { name: bad, namespace: 'shop' } }, slices: [pods], options: opts, node: () => undefined });
      expect(r.snapshot, bad).toBeUndefined();
      expect(r.problems[0]?.reason, bad).toBe(refProblem({ namespace: 'shop', name: bad }));
    }
    const broken = { metadata: { name: 'orders', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } } as KService;
    const r = serviceToSnapshot({ registry: 'k8s', service: broken, slices: [{ ...pods, endpoints: [null as unknown as { addresses: string[] }] }], options: opts, node: () => undefined });
    expect(r.problems[0]?.reason).toMatch(/^cannot convert the Service/);
  });
});

// Hostile model snapshots, as any source could hand them to the Kubernetes sink.
const endpoint = fc.record({
  address,
  ports: fc.dictionary(fc.oneof(dnsLabel, hostile), portNumber, { minKeys: 0, maxKeys: 2 }),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
  weight: fc.constant(100),
  zone: maybe(hostile),
  node: maybe(hostile),
  metadata: fc.constant({}),
  origin: fc.record({ registry: fc.constantFrom('vm', 'nacos-prod', 'consul'), nativeId: hostile }),
}, { requiredKeys: ['address', 'ports', 'ready', 'serving', 'terminating', 'weight', 'metadata', 'origin'] }) as unknown as fc.Arbitrary<Endpoint>;
const modelName = fc.oneof(dnsLabel, hostile, fc.constantFrom('com.shop.OrderService', 'providers:com.foo.Bar:1.0.0:', 'Ωmega/σ', '.'.repeat(70)));
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function stored(state: KubeSinkState, plan: KubeSinkPlan): KubeSinkState {
  const slices = new Map(state.slices.map((s) => [s.metadata?.name, s]));
  for (const s of [...plan.createSlices, ...plan.updateSlices]) slices.set(s.metadata?.name, { ...s, metadata: { ...s.metadata, resourceVersion: '2' } });
  for (const s of plan.deleteSlices) slices.delete(s.metadata?.name);
  const base = { ref: state.ref, owner: state.owner, svc: plan.service?.body ?? state.svc, slices: [...slices.values()], foreign: [] };
  return { ...base, observed: observedOf(base, 'b1', 'k8s') };
}

describe('model → kubernetes planning, property-based', () => {
  it('never throws; names are valid DNS names; what is written round-trips and plans nothing next', () => {
    fc.assert(
      fc.property(modelName, modelName, fc.array(endpoint, { maxLength: 6 }), fc.array(fc.record({ name: fc.oneof(dnsLabel, hostile), port: portNumber }), { maxLength: 3 }), (ns, n, endpoints, ports) => {
        const ref = { namespace: ns, name: n };
        // A ref the model refuses is refused by the sink too (typed, terminal), never written.
        if (refProblem(ref) !== undefined) {
          expect(() => ownerOf(ref, 'b1', [])).toThrow(BridgeError);
          if (ns === '' || n === '') return;
        }
        const owner = refProblem(ref) === undefined ? ownerOf(ref, 'b1', []) : { bridgeId: 'b1', namespace: toDns1035(ns), service: toDns1035(n), originalName: n, originalNamespace: ns };
        expect(isDns1035(owner.namespace) && isDns1035(owner.service), `${ns}/${n}`).toBe(true);
        const desired: ServiceSnapshot = { ref, ports, endpoints, metadata: {}, origin: 'vm' };
        const empty: KubeSinkState = { ref, owner, svc: undefined, slices: [], foreign: [], observed: undefined };
        const ctx = { bridgeId: 'b1', options: { mixed: 'annotated' as const, serviceType: 'ClusterIP' as const, maxEndpointsPerSlice: 2 }, heldBy: undefined };
        const plan = planImport(empty, desired, ctx);
        const svcPorts = plan.service?.body.spec?.ports ?? [];
        expect(new Set(svcPorts.map((p) => p.port)).size).toBe(svcPorts.length);
        for (const p of svcPorts) expect(DNS_LABEL.test(p.name ?? '') && Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535, JSON.stringify(p)).toBe(true);
        for (const s of plan.createSlices) {
          const sliceName = s.metadata?.name ?? '';
          expect(sliceName.length <= 253 && DNS_SUBDOMAIN.test(sliceName), sliceName).toBe(true);
          for (const e of s.endpoints ?? []) expect(sliceAddressProblem(e.addresses[0] ?? '')).toBeUndefined();
          for (const p of s.ports ?? []) expect(DNS_LABEL.test(p.name ?? '') && (p.name ?? '').length <= 63).toBe(true);
        }
        const keys = new Set(endpoints.map(endpointKey));
        const refusedKeys = new Set(plan.refused.map((r) => endpointKey(r.endpoint)));
        const after = stored(empty, plan);
        const written = new Set(after.observed?.endpoints.map(endpointKey) ?? []);
        for (const k of keys) expect(written.has(k) || refusedKeys.has(k), k).toBe(true);
        expect(planImport(after, desired, ctx).operations).toEqual([]);
        expect(planImport(after, undefined, ctx).operations.filter((o) => o.verb !== 'delete')).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});
