import { describe, expect, it } from 'vitest';
import { conditionsOf } from '../../bridge/model/index.ts';
import { livenessOfStatus, selfPreservationOf, toEndpoint, toSnapshots, weightOfMetadata, type ImportSettings } from './convert.ts';
import { asArray, effectiveStatus, reconcileHash, type EurekaInstance } from './native.ts';

const S: ImportSettings = { registry: 'eureka', namespace: 'default', services: ['*'], nameFrom: 'app', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone' };

function spring(over: Partial<EurekaInstance> = {}): EurekaInstance {
  return {
    instanceId: '10.0.0.1:greeter:8080',
    app: 'GREETER',
    hostName: 'vm-1.example',
    ipAddr: '10.0.0.1',
    status: 'UP',
    overriddenStatus: 'UNKNOWN',
    port: { $: 8080, '@enabled': 'true' },
    securePort: { $: 443, '@enabled': 'false' },
    vipAddress: 'greeter',
    metadata: { 'management.port': '8080', zone: 'z1' },
    ...over,
  };
}

describe('eureka import conversion', () => {
  it('maps status to health: UP ready, OUT_OF_SERVICE draining, DOWN/STARTING/UNKNOWN not ready', () => {
    expect(livenessOfStatus('UP')).toBe('ready');
    expect(livenessOfStatus('OUT_OF_SERVICE')).toBe('draining');
    for (const s of ['DOWN', 'STARTING', 'UNKNOWN'] as const) expect(livenessOfStatus(s)).toBe('down');
  });

  it('respects the overridden status over the reported one', () => {
    expect(effectiveStatus(spring({ status: 'UP', overriddenStatus: 'OUT_OF_SERVICE' }))).toBe('OUT_OF_SERVICE');
    // Eureka 1.x servers spell the field in lower case.
    const { overriddenStatus: _modern, ...legacy } = spring();
    expect(effectiveStatus({ ...legacy, overriddenstatus: 'DOWN' })).toBe('DOWN');
    expect(effectiveStatus(spring({ status: 'starting' }))).toBe('STARTING');
    expect(effectiveStatus(spring({ status: 'weird' }))).toBe('UNKNOWN');
    const ep = toEndpoint('GREETER', spring({ overriddenStatus: 'OUT_OF_SERVICE' }), S);
    expect('problem' in ep ? ep : { ready: ep.ready, serving: ep.serving, terminating: ep.terminating }).toEqual(conditionsOf('draining'));
  });

  it('builds an endpoint from a Spring Cloud registration', () => {
    expect(toEndpoint('GREETER', spring({ metadata: { 'management.port': '8081', zone: 'z1', weight: '3', '@class': 'x' } }), S)).toEqual({
      address: '10.0.0.1',
      ports: { http: 8080, management: 8081 },
      ...conditionsOf('ready'),
      weight: 300,
      zone: 'z1',
      node: 'vm-1.example',
      metadata: { 'management.port': '8081', zone: 'z1', weight: '3' },
      origin: { registry: 'eureka', nativeId: 'GREETER/10.0.0.1:greeter:8080' },
    });
  });

  it('reads enabled ports only; a secure-only instance speaks https; none enabled is refused', () => {
    const secure = toEndpoint('A', spring({ port: { $: 8080, '@enabled': 'false' }, securePort: { $: 8443, '@enabled': 'true' }, metadata: {} }), S);
    expect('problem' in secure ? secure.problem : [secure.ports, secure.protocol]).toEqual([{ https: 8443 }, 'https']);
    const both = toEndpoint('A', spring({ securePort: { $: '8443', '@enabled': true }, metadata: {} }), S);
    expect('problem' in both ? both.problem : both.ports).toEqual({ http: 8080, https: 8443 });
    expect(toEndpoint('A', spring({ port: { $: 8080, '@enabled': 'false' } }), S)).toEqual({ problem: expect.stringMatching(/no enabled port/) as unknown });
  });

  it('reads metadata weight the way Spring Cloud LoadBalancer does (positive number, else neutral)', () => {
    expect(weightOfMetadata({ weight: '1' })).toBe(100);
    expect(weightOfMetadata({ weight: '0.5' })).toBe(50);
    expect(weightOfMetadata({ weight: '1000' })).toBe(10_000);
    for (const w of ['0', '-2', 'x', '', ' ']) expect(weightOfMetadata({ weight: w }), w).toBe(100);
    expect(weightOfMetadata({})).toBe(100);
  });

  it('groups an application into one snapshot; skips our own instances by marker or by id; filters by glob', () => {
    const ours = spring({ instanceId: '10.0.0.9:greeter:8080:isthmus-0123456789ab', ipAddr: '10.0.0.9', metadata: {} });
    const marked = spring({ instanceId: 'x', ipAddr: '10.0.0.8', metadata: { 'isthmus.managed-by': 'other' } });
    const r = toSnapshots('GREETER', [spring(), spring({ instanceId: 'b', ipAddr: '10.0.0.2', status: 'DOWN' }), ours, marked], S);
    expect(r.quarantined).toEqual([]);
    expect(r.snapshots).toHaveLength(1);
    const snap = r.snapshots[0];
    expect(snap?.ref).toEqual({ namespace: 'default', name: 'greeter' });
    expect(snap?.endpoints.map((e) => [e.address, e.ready])).toEqual([['10.0.0.1', true], ['10.0.0.2', false]]);
    expect(snap?.ports).toEqual([{ name: 'http', port: 8080 }]);
    expect(snap?.metadata).toEqual({ 'eureka.app': 'GREETER', 'eureka.vipAddress': 'greeter' });
    expect(toSnapshots('GREETER', [spring()], { ...S, services: ['orders-*'] }).snapshots).toEqual([]);
    expect(toSnapshots('GREETER', [ours], S).snapshots).toEqual([]);
  });

  it('names by vipAddress when asked, and keeps one endpoint per address (the healthier registration)', () => {
    const r = toSnapshots('GREETER-SVC', [spring({ vipAddress: 'greeter,greeter-alias' }), spring({ instanceId: 'old', status: 'DOWN' })], { ...S, nameFrom: 'vipAddress' });
    expect(r.snapshots.map((s) => s.ref.name)).toEqual(['greeter']);
    expect(r.snapshots[0]?.endpoints.map((e) => [e.origin.nativeId, e.ready])).toEqual([['GREETER-SVC/10.0.0.1:greeter:8080', true]]);
  });

  it('quarantines what the model refuses, with the instance as native id', () => {
    const r = toSnapshots('GREETER', [spring({ ipAddr: 'not-an-ip', hostName: 'not-an-ip' }), spring({ instanceId: 'ok', ipAddr: '10.0.0.3' })], S);
    expect(r.quarantined.map((q) => q.nativeId)).toEqual(['GREETER/10.0.0.1:greeter:8080']);
    expect(r.snapshots[0]?.endpoints).toHaveLength(1);
    const slash = toSnapshots('A/B', [spring({ app: 'A/B' })], S);
    expect(slash.snapshots).toEqual([]);
    expect(slash.quarantined).toHaveLength(1);
  });

  it('computes the reconcile hash as Eureka does', () => {
    expect(reconcileHash(['UP', 'UP', 'DOWN', 'UP', 'OUT_OF_SERVICE'])).toBe('DOWN_1_OUT_OF_SERVICE_1_UP_3_');
    expect(reconcileHash([])).toBe('');
  });

  it('accepts a single element where a list is expected', () => {
    expect(asArray({ a: 1 })).toEqual([{ a: 1 }]);
    expect(asArray(null)).toEqual([]);
    expect(asArray([1, 2])).toEqual([1, 2]);
  });

  it('reads self-preservation from the Spring dashboard', () => {
    const page = (on: boolean) => `<tr>\n<td>Lease expiration enabled</td>\n        <td>${String(on)}</td>\n</tr><tr><td>Renews threshold</td>\n<td>8</td></tr><tr><td>Renews (last min)</td>\n<td>0</td></tr>`;
    expect(selfPreservationOf(page(false))).toEqual({ active: true, detail: ' (renews last minute 0, threshold 8)' });
    expect(selfPreservationOf(page(true))?.active).toBe(false);
    expect(selfPreservationOf('<html>no dashboard</html>')).toBeUndefined();
  });
});
