import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { ISTIO, istioFingerprint, localityOf, meshProtocol, renderDestinationRule, renderVirtualService, renderWorkloadEntry, sideWeights, workloadEntryName, workloadLabels } from './istio-render.ts';
import { allocateVip, inCidr, parseCidr } from './istio-vip.ts';
import { K8S } from './markers.ts';
import type { SliceOwner } from './slices.ts';

const OWNER: SliceOwner = { bridgeId: 'b1', namespace: 'shop', service: 'orders', originalName: 'Orders', originalNamespace: 'shop' };
const OPTS = { clusterDomain: 'cluster.local', exportTo: ['.'], podSubsetLabels: { 'isthmus.dev/side': 'k8s' } };

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.0.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, zone: 'z1', metadata: {}, origin: { registry: 'nacos', nativeId: `vm-${i}` }, ...over };
}

describe('Istio rendering (pure)', () => {
  it('a WorkloadEntry has no serviceAccount and no tlsMode label, and carries markers, weight and locality', () => {
    const we = renderWorkloadEntry(OWNER, ep(1, { weight: 250 }), workloadLabels(OWNER, undefined), { ...OPTS, region: 'eu' });
    if ('refused' in we) throw new Error(we.refused);
    expect(we.spec).toEqual({ address: '10.0.0.1', ports: { http: 8080 }, labels: { app: 'orders', [ISTIO.side]: 'vm' }, weight: 3, locality: 'eu/z1' });
    expect(we.spec).not.toHaveProperty('serviceAccount');
    expect(we.metadata?.labels).toEqual({ [K8S.managedBy]: 'b1', [K8S.origin]: 'nacos', [ISTIO.service]: 'orders' });
    expect(we.metadata?.labels).not.toHaveProperty('security.istio.io/tlsMode');
    expect(we.metadata?.annotations).toMatchObject({ [K8S.originalName]: 'Orders', [ISTIO.originId]: 'vm-1' });
    expect(renderWorkloadEntry(OWNER, ep(1, { address: 'vm.example' }), {}, OPTS)).toEqual({ refused: 'vm.example is not an IP address' });
  });

  it('names entries per bridge and instance, stable under port order', () => {
    const a = workloadEntryName(OWNER, { address: '10.0.0.1', ports: { a: 1, b: 2 } });
    expect(workloadEntryName(OWNER, { address: '10.0.0.1', ports: { b: 2, a: 1 } })).toBe(a);
    expect(workloadEntryName({ ...OWNER, bridgeId: 'b2' }, { address: '10.0.0.1', ports: { a: 1, b: 2 } })).not.toBe(a);
    expect(a).toMatch(/^orders-[0-9a-f]{10}$/);
  });

  it('labels entries with the Service selector when there is one, and maps ports to its port names', () => {
    expect(workloadLabels(OWNER, { app: 'web', tier: 'front' })).toEqual({ app: 'web', tier: 'front', [ISTIO.side]: 'vm' });
    expect(workloadLabels(OWNER, {})).toEqual({ app: 'orders', [ISTIO.side]: 'vm' });
    const we = renderWorkloadEntry(OWNER, ep(1, { ports: { default: 9000 } }), {}, OPTS, [{ name: 'web', port: 80, targetPort: 8080 }]);
    expect('refused' in we ? undefined : we.spec?.ports).toEqual({ web: 9000 });
  });

  it('locality: region/zone, a zone that already is a locality, none without zone', () => {
    expect(localityOf('z1', 'eu')).toBe('eu/z1');
    expect(localityOf('eu/z1/rack', 'us')).toBe('eu/z1/rack');
    expect(localityOf('z1', undefined)).toBe('z1');
    expect(localityOf(undefined, 'eu')).toBeUndefined();
  });

  it('port protocols: HTTP family by protocol or name prefix, TCP otherwise (Dubbo)', () => {
    expect(meshProtocol('http', undefined)).toBe('HTTP');
    expect(meshProtocol('grpc-api', undefined)).toBe('GRPC');
    expect(meshProtocol('api', 'http2')).toBe('HTTP2');
    expect(meshProtocol('dubbo', 'dubbo')).toBe('TCP');
    expect(meshProtocol('default', undefined)).toBe('TCP');
  });

  it('split → side weights: pods are the sink registry, a VM side with nothing ready drops out', () => {
    expect(sideWeights(undefined, 'k8s', [ep(1)])).toBeUndefined();
    expect(sideWeights({ nacos: 90, k8s: 10 }, 'k8s', [ep(1)])).toEqual({ vm: 90, k8s: 10 });
    expect(sideWeights({ nacos: 1, consul: 1, k8s: 1 }, 'k8s', [ep(1), ep(2, { origin: { registry: 'consul', nativeId: 'c' } })])).toEqual({ vm: 67, k8s: 33 });
    expect(sideWeights({ nacos: 90, k8s: 10 }, 'k8s', [ep(1, { ready: false })])).toEqual({ vm: 0, k8s: 100 });
    expect(sideWeights({ nacos: 100 }, 'k8s', [ep(1, { ready: false })])).toBeUndefined();
  });

  it('the VirtualService leaves a zero-weight side out; the DestinationRule disables TLS for the vm subset only', () => {
    const vs = renderVirtualService(OWNER, 'nacos', { vm: 0, k8s: 100 }, OPTS);
    expect(vs.spec?.http?.[0]?.route).toEqual([{ destination: { host: 'orders.shop.svc.cluster.local', subset: 'k8s' }, weight: 100 }]);
    expect(vs.spec?.exportTo).toEqual(['.']);
    const dr = renderDestinationRule(OWNER, 'nacos', OPTS);
    expect(dr.spec?.subsets?.map((s) => [s.name, s.trafficPolicy?.tls?.mode])).toEqual([['vm', 'DISABLE'], ['k8s', undefined]]);
  });

  it('fingerprints compare the spec and our own keys only', () => {
    const dr = renderDestinationRule(OWNER, 'nacos', OPTS);
    const handLabelled = { ...dr, metadata: { ...dr.metadata, labels: { ...dr.metadata?.labels, team: 'x' }, resourceVersion: '7' } };
    const [a, b] = istioFingerprint(dr, handLabelled);
    expect(a).toBe(b);
    const [c, d] = istioFingerprint(dr, { ...dr, spec: { ...dr.spec, exportTo: ['*'] } });
    expect(c).not.toBe(d);
  });
});

describe('ServiceEntry VIPs (pure)', () => {
  it('parses IPv4 CIDRs and refuses the rest', () => {
    expect(parseCidr('240.240.0.0/16')).toEqual({ base: 240 * 2 ** 24 + 240 * 2 ** 16, size: 65536 });
    expect(parseCidr('240.240.7.9/16')).toEqual(parseCidr('240.240.0.0/16'));
    expect(parseCidr('fd00::/64')).toHaveProperty('problem');
    expect(parseCidr('10.0.0.0/31')).toHaveProperty('problem');
  });

  it('allocates a stable host address in the CIDR and steps past used ones', () => {
    const cidr = parseCidr('240.240.0.0/30');
    if ('problem' in cidr) throw new Error(cidr.problem);
    const first = allocateVip(cidr, 'shop/orders', new Set());
    expect(first).toBe(allocateVip(cidr, 'shop/orders', new Set()));
    expect(inCidr(first ?? '', cidr)).toBe(true);
    const second = allocateVip(cidr, 'shop/orders', new Set([first ?? '']));
    expect(second).not.toBe(first);
    expect(['240.240.0.1', '240.240.0.2']).toContain(second);
    expect(allocateVip(cidr, 'shop/orders', new Set(['240.240.0.1', '240.240.0.2']))).toBeUndefined();
    expect(inCidr('240.240.0.0', cidr)).toBe(false); // network address
    expect(inCidr('240.240.0.3', cidr)).toBe(false); // broadcast
  });
});
