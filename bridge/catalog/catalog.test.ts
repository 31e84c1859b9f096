import { describe, expect, it } from 'vitest';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { Catalog } from './catalog.ts';

const orders = { namespace: 'shop', name: 'orders' };
const ep = (address: string, registry: string) => ({
  address, ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry, nativeId: address },
});

describe('Catalog', () => {
  it('merges sources per ref and bumps the revision only on real changes', async () => {
    const vm = new MemoryRegistry();
    const k8s = new MemoryRegistry();
    const abort = new AbortController();
    const sources = [new MemorySource('vm', vm), new MemorySource('k8s', k8s)];
    for (const s of sources) await s.start(abort.signal);
    const catalog = new Catalog(sources);
    const events: number[] = [];
    catalog.onChange((e) => events.push(e.revision));
    catalog.start();
    vm.putEndpoint(orders, ep('10.0.0.1', 'vm'));
    k8s.putEndpoint(orders, ep('10.1.0.1', 'k8s'));
    const entry = catalog.get(orders);
    expect(entry?.registries).toEqual(['vm', 'k8s']);
    expect(entry?.endpoints.map((e) => e.address)).toEqual(['10.1.0.1', '10.0.0.1']);
    const rev = catalog.revision();
    catalog.refresh(orders); // a spurious nudge
    catalog.refresh({ namespace: 'shop', name: 'never-existed' });
    expect(catalog.revision()).toBe(rev);
    vm.deleteService(orders);
    k8s.deleteService(orders);
    expect(catalog.get(orders)).toBeUndefined();
    expect(events.length).toBeGreaterThan(0);
    expect([...events].sort((a, b) => a - b)).toEqual(events);
    abort.abort();
  });
});
