import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { PartCache } from './cache.ts';

const ref: ServiceRef = { namespace: 'default', name: 'shop' };
const ep = (address: string, nativeId: string): Endpoint => ({
  address, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'zk', nativeId },
});
const snap = (endpoints: Endpoint[], metadata: Record<string, string> = {}): ServiceSnapshot => ({ ref, ports: [{ name: 'dubbo', port: 20880 }], endpoints, metadata, origin: 'zk' });

describe('dubbo source cache', () => {
  it('merges parts feeding one ref and nudges only on real changes', () => {
    const nudged: string[] = [];
    const cache = new PartCache('zk', (r) => nudged.push(r.name));
    cache.replace('i:shop', { snapshots: [snap([ep('10.0.0.1', 'a')])], quarantined: [] });
    cache.replace('a:shop', { snapshots: [snap([ep('10.0.0.2', 'b')], { 'dubbo.interfaces': 'x' })], quarantined: [{ nativeId: 'shop/bad', reason: 'instance data is not JSON' }] });
    expect(cache.get(ref)?.endpoints.map((e) => e.address)).toEqual(['10.0.0.2', '10.0.0.1']);
    expect(cache.get(ref)?.metadata).toEqual({ 'dubbo.interfaces': 'x' });
    expect(cache.quarantined().map((q) => q.reason)).toEqual(['instance data is not JSON']);
    expect(nudged).toEqual(['shop', 'shop']);
    cache.replace('i:shop', { snapshots: [snap([ep('10.0.0.1', 'a')])], quarantined: [] });
    expect(nudged).toHaveLength(2);
  });

  it('drops a part: its endpoints go, the ref stays while another part feeds it', () => {
    const cache = new PartCache('zk', () => undefined);
    cache.replace('i:shop', { snapshots: [snap([ep('10.0.0.1', 'a')])], quarantined: [] });
    cache.replace('a:shop', { snapshots: [snap([ep('10.0.0.2', 'b')])], quarantined: [] });
    cache.drop('i:shop');
    expect(cache.get(ref)?.endpoints.map((e) => e.address)).toEqual(['10.0.0.2']);
    cache.replace('a:shop', { snapshots: [], quarantined: [] });
    expect(cache.get(ref)).toBeUndefined();
    expect(cache.keys()).toEqual([]);
  });
});
