import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { SourceCache } from './source-cache.ts';

const ep = (address: string, nativeId = address, metadata: Record<string, string> = {}): Endpoint => ({
  address, ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata, origin: { registry: 'vm', nativeId },
});

function snap(namespace: string, name: string, endpoints: Endpoint[], extra: Partial<ServiceSnapshot> = {}): ServiceSnapshot {
  return { ref: { namespace, name }, ports: [{ name: 'http', port: 80 }], endpoints, metadata: {}, origin: 'vm', revision: '1', ...extra };
}

function recorder(cache: SourceCache): string[] {
  const nudged: string[] = [];
  cache.onChange((ref) => nudged.push(`${ref.namespace}/${ref.name}`));
  return nudged;
}

describe('SourceCache', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('a part yields several refs; replacing it nudges only the refs that changed or went away', () => {
    const cache = new SourceCache('vm');
    const nudged = recorder(cache);
    cache.replace('orders', { snapshots: [snap('a', 'orders', [ep('10.0.0.1')]), snap('b', 'orders', [ep('10.0.0.2')])] });
    cache.replace('users', { snapshots: [snap('a', 'users', [ep('10.0.0.9')])] });
    expect(nudged).toEqual(['a/orders', 'b/orders', 'a/users']);
    // a/orders only moved its revision, b/orders changed, c/orders is new.
    cache.replace('orders', { snapshots: [snap('a', 'orders', [ep('10.0.0.1')], { revision: '2' }), snap('b', 'orders', [ep('10.0.0.3')]), snap('c', 'orders', [ep('10.0.0.4')])] });
    expect(nudged.slice(3)).toEqual(['b/orders', 'c/orders']);
    expect(cache.get({ namespace: 'a', name: 'orders' })?.revision).toBe('2');
    cache.replace('orders', { snapshots: [snap('a', 'orders', [ep('10.0.0.1')])] });
    expect(nudged.slice(5)).toEqual(['b/orders', 'c/orders']);
    expect([...cache.keys()].map((r) => `${r.namespace}/${r.name}`).sort()).toEqual(['a/orders', 'a/users']);
    cache.drop('orders');
    expect(nudged.slice(7)).toEqual(['a/orders']);
    expect(cache.parts()).toEqual(['users']);
  });

  it('is blind to key order: the same content reordered is no change', () => {
    const cache = new SourceCache('vm');
    const nudged = recorder(cache);
    cache.replace('p', { snapshots: [snap('a', 'orders', [ep('10.0.0.1', 'x', { zone: 'z1', rack: 'r1' })], { metadata: { team: 't', tier: '1' } })] });
    const reordered: ServiceSnapshot = {
      revision: '9',
      origin: 'vm',
      metadata: { tier: '1', team: 't' },
      endpoints: [{ origin: { nativeId: 'x', registry: 'vm' }, metadata: { rack: 'r1', zone: 'z1' }, weight: 100, terminating: false, serving: true, ready: true, ports: { http: 80 }, address: '10.0.0.1' }],
      ports: [{ port: 80, name: 'http' }],
      ref: { name: 'orders', namespace: 'a' },
    };
    cache.replace('p', { snapshots: [reordered] });
    expect(nudged).toEqual(['a/orders']);
  });

  it('merges the parts of one ref in part-name order: union of endpoints by native id, first part wins ports and metadata', () => {
    const cache = new SourceCache('zk');
    const nudged = recorder(cache);
    cache.replace('i:shop', { snapshots: [snap('d', 'shop', [ep('10.0.0.1', 'a'), ep('10.0.0.3', 'c')], { ports: [{ name: 'dubbo', port: 20880 }], metadata: { owner: 'iface', only: 'i' } })] });
    cache.replace('a:shop', { snapshots: [snap('d', 'shop', [ep('10.0.0.2', 'b'), ep('10.9.9.9', 'c')], { ports: [{ name: 'dubbo', port: 1 }, { name: 'tri', port: 50051 }], metadata: { owner: 'app' } })] });
    const merged = cache.get({ namespace: 'd', name: 'shop' });
    expect(merged?.endpoints.map((e) => e.address)).toEqual(['10.0.0.2', '10.9.9.9', '10.0.0.1']);
    expect(merged?.ports).toEqual([{ name: 'dubbo', port: 1 }, { name: 'tri', port: 50051 }]);
    expect(merged?.metadata).toEqual({ owner: 'app', only: 'i' });
    expect(nudged).toEqual(['d/shop', 'd/shop']);
    // The same part content again: the merged view is unchanged, so nobody hears of it.
    cache.replace('i:shop', { snapshots: [snap('d', 'shop', [ep('10.0.0.1', 'a'), ep('10.0.0.3', 'c')], { ports: [{ name: 'dubbo', port: 20880 }], metadata: { owner: 'iface', only: 'i' } })] });
    expect(nudged).toHaveLength(2);
    // A part that changes only what another part shadows does not change the merge either.
    cache.replace('i:shop', { snapshots: [snap('d', 'shop', [ep('10.0.0.1', 'a'), ep('10.0.0.7', 'c')], { ports: [{ name: 'dubbo', port: 20880 }], metadata: { owner: 'iface', only: 'i' } })] });
    expect(nudged).toHaveLength(2);
    cache.drop('a:shop');
    expect(cache.get({ namespace: 'd', name: 'shop' })?.endpoints.map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.7']);
    expect(nudged).toHaveLength(3);
    cache.replace('i:shop', { snapshots: [] });
    expect(cache.get({ namespace: 'd', name: 'shop' })).toBeUndefined();
    expect([...cache.keys()]).toEqual([]);
    expect(cache.size).toBe(0);
    expect(nudged).toHaveLength(4);
  });

  it('listeners hear a change only once the whole part is in', () => {
    const cache = new SourceCache('vm');
    const seen: (number | undefined)[] = [];
    cache.onChange(() => { seen.push(cache.get({ namespace: 'b', name: 'orders' })?.endpoints.length); });
    cache.replace('orders', { snapshots: [snap('a', 'orders', [ep('10.0.0.1')]), snap('b', 'orders', [ep('10.0.0.2')])] });
    expect(seen).toEqual([1, 1]);
  });

  it('quarantines by native id: since survives refreshes, goes with the record, and only new ones are returned', () => {
    vi.useFakeTimers({ now: 1_000 });
    const cache = new SourceCache('vm');
    const fresh = cache.replace('p', { snapshots: [], quarantined: [{ nativeId: 'bad-1', reason: 'no port' }] });
    expect(fresh.map((q) => q.nativeId)).toEqual(['bad-1']);
    expect(cache.quarantined()).toEqual([{ registry: 'vm', nativeId: 'bad-1', reason: 'no port', since: 1_000 }]);
    vi.setSystemTime(5_000);
    const ref = { namespace: 'a', name: 'orders' };
    const again = cache.replace('p', { snapshots: [snap('a', 'orders', [ep('10.0.0.1')])], quarantined: [{ nativeId: 'bad-1', reason: 'port 0' }, { nativeId: 'bad-2', ref, reason: 'no address' }] });
    expect(again.map((q) => q.nativeId)).toEqual(['bad-2']);
    expect(cache.quarantined()).toEqual([
      { registry: 'vm', nativeId: 'bad-1', reason: 'port 0', since: 1_000 },
      { registry: 'vm', nativeId: 'bad-2', ref, reason: 'no address', since: 5_000 },
    ]);
    cache.replace('p', { snapshots: [], quarantined: [{ nativeId: 'bad-2', ref, reason: 'no address' }] });
    vi.setSystemTime(9_000);
    // bad-1 left; when it comes back it is a new refusal with a new since.
    cache.replace('p', { snapshots: [], quarantined: [{ nativeId: 'bad-1', reason: 'port 0' }, { nativeId: 'bad-2', ref, reason: 'no address' }] });
    expect(cache.quarantined().map((q) => [q.nativeId, q.since])).toEqual([['bad-1', 9_000], ['bad-2', 5_000]]);
    cache.replace('o', { snapshots: [], quarantined: [{ nativeId: 'bad-0', reason: 'x' }] });
    expect(cache.quarantined().map((q) => q.nativeId)).toEqual(['bad-0', 'bad-1', 'bad-2']);
    cache.drop('p');
    cache.drop('o');
    expect(cache.quarantined()).toEqual([]);
    expect(cache.parts()).toEqual([]);
  });

  it('nudgeAll reaches every cached ref; an unsubscribed listener hears nothing', () => {
    const cache = new SourceCache('vm');
    cache.replace('p', { snapshots: [snap('a', 'orders', [ep('10.0.0.1')]), snap('a', 'users', [ep('10.0.0.2')])] });
    const nudged: string[] = [];
    const off = cache.onChange((ref) => nudged.push(ref.name));
    cache.nudgeAll();
    off();
    cache.nudgeAll();
    expect(nudged.sort()).toEqual(['orders', 'users']);
  });

  it('synced turns true once and stays', () => {
    const cache = new SourceCache('vm');
    expect(cache.hasSynced()).toBe(false);
    cache.markSynced();
    cache.markSynced();
    expect(cache.hasSynced()).toBe(true);
  });

  it('health: reachable while no channel fails; the last contact and the latest error while one does', () => {
    vi.useFakeTimers({ now: 1_000 });
    const cache = new SourceCache('vm');
    expect(cache.health()).toEqual({ reachable: true, lastContact: 1_000 });
    vi.setSystemTime(2_000);
    expect(cache.contact('w1')).toBe(false);
    vi.setSystemTime(3_000);
    expect(cache.lost('timeout', 'w1')).toBe(true);
    expect(cache.lost('timeout again', 'w1')).toBe(false);
    expect(cache.lost('refused', 'w2')).toBe(true);
    expect(cache.health()).toEqual({ reachable: false, lastContact: 2_000, lastError: 'refused' });
    vi.setSystemTime(4_000);
    expect(cache.contact('w1')).toBe(false);
    expect(cache.health()).toEqual({ reachable: false, lastContact: 4_000, lastError: 'refused' });
    expect(cache.contact('w2')).toBe(true);
    vi.setSystemTime(5_000);
    expect(cache.health()).toEqual({ reachable: true, lastContact: 5_000 });
  });

  it('health: pending channels keep the source unreachable until each answered once', () => {
    vi.useFakeTimers({ now: 1_000 });
    const cache = new SourceCache('k8s', { pending: ['services/*', 'endpointslices/*'], lastContact: 0 });
    expect(cache.health()).toEqual({ reachable: false, lastContact: 0 });
    expect(cache.contact('services/*')).toBe(false);
    expect(cache.reachable).toBe(false);
    expect(cache.contact('endpointslices/*')).toBe(true);
    expect(cache.health()).toEqual({ reachable: true, lastContact: 1_000 });
  });
});
