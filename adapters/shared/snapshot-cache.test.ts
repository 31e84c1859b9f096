import { describe, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../../bridge/model/index.ts';
import { SnapshotCache } from './snapshot-cache.ts';

function snap(namespace: string, name: string, address: string, revision = '1'): ServiceSnapshot {
  return {
    ref: { namespace, name },
    ports: [{ name: 'http', port: 80 }],
    endpoints: [
      { address, ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: address } },
    ],
    metadata: {},
    origin: 'vm',
    revision,
  };
}

describe('SnapshotCache', () => {
  it('nudges only refs whose content changed, ignoring the revision', () => {
    const cache = new SnapshotCache();
    const nudged: string[] = [];
    cache.onChange((ref) => nudged.push(`${ref.namespace}/${ref.name}`));
    let group = cache.replace(new Set(), [snap('a', 'orders', '10.0.0.1'), snap('b', 'orders', '10.0.0.2')]);
    expect(nudged).toEqual(['a/orders', 'b/orders']);
    group = cache.replace(group, [snap('a', 'orders', '10.0.0.1', '2'), snap('b', 'orders', '10.0.0.3')]);
    expect(nudged).toEqual(['a/orders', 'b/orders', 'b/orders']);
    expect(cache.get({ namespace: 'b', name: 'orders' })?.endpoints[0]?.address).toBe('10.0.0.3');
    expect(group.size).toBe(2);
  });

  it('drops the refs a native service no longer produces and leaves other groups alone', () => {
    const cache = new SnapshotCache();
    const first = cache.replace(new Set(), [snap('a', 'orders', '10.0.0.1'), snap('b', 'orders', '10.0.0.2')]);
    cache.replace(new Set(), [snap('a', 'users', '10.0.0.9')]);
    const nudged: string[] = [];
    cache.onChange((ref) => nudged.push(`${ref.namespace}/${ref.name}`));
    const after = cache.replace(first, [snap('a', 'orders', '10.0.0.1')]);
    expect(nudged).toEqual(['b/orders']);
    expect([...after]).toHaveLength(1);
    expect(cache.keys().map((r) => `${r.namespace}/${r.name}`).sort()).toEqual(['a/orders', 'a/users']);
  });

  it('nudgeAll reaches every cached ref; an unsubscribed listener hears nothing', () => {
    const cache = new SnapshotCache();
    cache.replace(new Set(), [snap('a', 'orders', '10.0.0.1'), snap('a', 'users', '10.0.0.2')]);
    const nudged: string[] = [];
    const off = cache.onChange((ref) => nudged.push(ref.name));
    cache.nudgeAll();
    off();
    cache.nudgeAll();
    expect(nudged.sort()).toEqual(['orders', 'users']);
  });
});
