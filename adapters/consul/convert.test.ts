import { describe, expect, it } from 'vitest';
import { isIsthmusRecord, toSnapshots, wantsService, worstStatus, type ImportSettings } from './convert.ts';
import type { HealthEntry } from './native.ts';

const S: ImportSettings = {
  registry: 'consul-dc1',
  namespace: 'default',
  portName: 'http',
  zoneMetaKey: 'zone',
  warningAs: 'draining',
  importConsulK8s: false,
  services: ['*'],
  tags: [],
  meta: {},
};

/** What Spring Cloud Consul's agent registration looks like in /v1/health/service/orders. */
function spring(i: number, status = 'passing', extra: Partial<HealthEntry['Service']> = {}): HealthEntry {
  return {
    Node: { Node: 'vm-1', Address: '10.0.0.9', Meta: {} },
    Service: {
      ID: `orders-${8080 + i}`,
      Service: 'orders',
      Tags: ['v1'],
      Address: `10.0.0.${i}`,
      Port: 8080,
      Meta: { secure: 'false', zone: 'zone-a', group: 'blue' },
      Weights: { Passing: 1, Warning: 1 },
      ...extra,
    },
    Checks: [
      { CheckID: 'serfHealth', Status: 'passing', ServiceID: '' },
      { CheckID: `service:orders-${8080 + i}`, Status: status, ServiceID: `orders-${8080 + i}` },
    ],
  };
}

describe('consul → model', () => {
  it('converts a Spring Cloud Consul registration: tags, Meta, zone, secure, weights, node', () => {
    const { snapshots, quarantined } = toSnapshots('orders', [spring(1)], S, '42');
    expect(quarantined).toEqual([]);
    expect(snapshots).toHaveLength(1);
    const snap = snapshots[0]!;
    expect(snap.ref).toEqual({ namespace: 'default', name: 'orders' });
    expect(snap.ports).toEqual([{ name: 'http', port: 8080, protocol: 'http' }]);
    expect(snap.metadata).toEqual({ 'tag:v1': 'true' });
    expect(snap.revision).toBe('42');
    expect(snap.endpoints[0]).toEqual({
      address: '10.0.0.1',
      ports: { http: 8080 },
      protocol: 'http',
      ready: true,
      serving: true,
      terminating: false,
      weight: 100,
      zone: 'zone-a',
      node: 'vm-1',
      metadata: { secure: 'false', zone: 'zone-a', group: 'blue', 'tag:v1': 'true' },
      origin: { registry: 'consul-dc1', nativeId: 'vm-1/orders-8081' },
    });
  });

  it('maps health: passing → ready, warning → warningAs, critical and maintenance → down', () => {
    const states = (warningAs: ImportSettings['warningAs']) =>
      toSnapshots('orders', [spring(1), spring(2, 'warning'), spring(3, 'critical'), spring(4, 'maintenance')], { ...S, warningAs }).snapshots[0]!.endpoints.map((e) => [e.ready, e.serving, e.terminating]);
    expect(states('draining')).toEqual([[true, true, false], [false, true, true], [false, false, false], [false, false, false]]);
    expect(states('ready')[1]).toEqual([true, true, false]);
    expect(states('down')[1]).toEqual([false, false, false]);
    expect(worstStatus([{ CheckID: 'a', Status: 'warning' }, { CheckID: 'b', Status: 'passing' }])).toBe('warning');
    expect(worstStatus([])).toBe('passing');
  });

  it('never imports what Isthmus wrote, and consul-k8s entries only when asked', () => {
    const ours = { ...spring(5), Node: { Node: 'isthmus-prod', Address: '127.0.0.1', Meta: { 'external-source': 'isthmus' } } };
    const marked = spring(6, 'passing', { Meta: { 'isthmus-managed-by': 'other-bridge' } });
    const k8s = spring(7, 'passing', { Tags: ['k8s'], Meta: { 'external-source': 'kubernetes', 'external-k8s-ns': 'shop' } });
    expect(isIsthmusRecord(ours.Node, ours.Service)).toBe(true);
    expect(toSnapshots('orders', [ours, marked, k8s], S).snapshots).toEqual([]);
    const imported = toSnapshots('orders', [ours, marked, k8s], { ...S, importConsulK8s: true, namespaceMetaKey: 'external-k8s-ns' }).snapshots;
    expect(imported.map((s) => s.ref)).toEqual([{ namespace: 'shop', name: 'orders' }]);
  });

  it('applies tag and Meta filters per instance and globs per service name', () => {
    expect(toSnapshots('orders', [spring(1), spring(2, 'passing', { Tags: ['v2'] })], { ...S, tags: ['v2'] }).snapshots[0]!.endpoints.map((e) => e.address)).toEqual(['10.0.0.2']);
    expect(toSnapshots('orders', [spring(1)], { ...S, meta: { group: 'green' } }).snapshots).toEqual([]);
    expect(wantsService('orders-api', ['v1'], { ...S, services: ['orders-*'] })).toBe(true);
    expect(wantsService('billing', ['v1'], { ...S, services: ['orders-*'] })).toBe(false);
    expect(wantsService('orders-api', ['v1'], { ...S, tags: ['v2'] })).toBe(false);
    expect(wantsService('consul', [], S)).toBe(false);
  });

  it('quarantines what the model refuses and keeps the rest', () => {
    const { snapshots, quarantined } = toSnapshots('orders', [spring(1), spring(2, 'passing', { Port: 0 }), spring(3, 'passing', { Address: 'not-an-ip' })], S);
    expect(snapshots[0]!.endpoints).toHaveLength(1);
    expect(quarantined.map((q) => q.nativeId)).toEqual(['vm-1/orders-8082', 'vm-1/orders-8083']);
  });

  it('uses the node address when the service has none, and maps weights relative to 1', () => {
    const ep = toSnapshots('orders', [spring(1, 'passing', { Address: '', Weights: { Passing: 3, Warning: 1 } })], S).snapshots[0]!.endpoints[0]!;
    expect(ep.address).toBe('10.0.0.9');
    expect(ep.weight).toBe(300);
  });

  it('reads Meta weight (Spring Cloud LoadBalancer\'s) on the Passing scale, ahead of Weights.Passing', () => {
    const weightOfMeta = (weight: string, passing = 1): number =>
      toSnapshots('orders', [spring(1, 'passing', { Meta: { weight }, Weights: { Passing: passing, Warning: 1 } })], S).snapshots[0]!.endpoints[0]!.weight;
    expect(weightOfMeta('10')).toBe(1000);
    expect(weightOfMeta('2.5', 7)).toBe(250);
    expect(weightOfMeta('500')).toBe(10_000);
    // Not a positive number: Weights.Passing decides, as before.
    for (const bad of ['0', '-3', 'heavy', '', ' ']) expect(weightOfMeta(bad, 3)).toBe(300);
  });
});
