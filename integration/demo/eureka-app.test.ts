// The demo's Eureka VM app against the adapter's in-memory Eureka: it must register the way a
// Spring Cloud Netflix client does and then keep its leases alive, or the real server evicts
// them mid-demo; and it must cancel them on the way out.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeEureka, type FakeEureka } from '../../adapters/eureka/fake-server.ts';
import { EurekaVmApps, LEASE_DURATION_SECONDS, RENEW_INTERVAL_SECONDS } from './eureka-app.ts';
import { TOPOLOGY } from './topology.ts';

const catalog = TOPOLOGY.find((s) => s.home === 'eureka');
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => { await Promise.all(closers.splice(0).map((c) => c())); });

async function fake(): Promise<FakeEureka> {
  const f = await startFakeEureka();
  closers.push(() => f.close());
  return f;
}

describe('EurekaVmApps', () => {
  it('registers each VM instance as a Spring Cloud Netflix client would', async () => {
    expect(catalog).toBeDefined();
    if (catalog === undefined) return;
    const f = await fake();
    const apps = new EurekaVmApps({ baseUrl: f.base });
    closers.push(() => apps.cancelAll());
    await apps.register(catalog);
    const held = [...(f.apps.get('CATALOG')?.values() ?? [])];
    expect(held.map((i) => i.instanceId).sort()).toEqual(catalog.endpoints.map((e) => `${e.address}:catalog:${e.port}`).sort());
    for (const i of held) {
      expect(i).toMatchObject({
        app: 'CATALOG',
        status: 'UP',
        vipAddress: 'catalog',
        port: { $: 8080, '@enabled': 'true' },
        dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
        leaseInfo: { renewalIntervalInSecs: RENEW_INTERVAL_SECONDS, durationInSecs: LEASE_DURATION_SECONDS },
        metadata: { zone: 'dc1' },
      });
    }
    expect(f.log.filter((l) => l.startsWith('POST'))).toEqual(['POST /eureka/apps/CATALOG', 'POST /eureka/apps/CATALOG']);
  });

  it('renews every lease each interval, registers again after a 404, and cancels on the way out', async () => {
    if (catalog === undefined) return;
    const f = await fake();
    const apps = new EurekaVmApps({ baseUrl: f.base }, 100);
    await apps.register(catalog);
    const renewals = (): string[] => f.log.filter((l) => l.startsWith('PUT /eureka/apps/CATALOG/')).map(decodeURIComponent);
    // The first heartbeat is one interval after registering, then one per interval per lease.
    expect(renewals()).toEqual([]);
    await vi.waitFor(() => { expect(renewals().length).toBeGreaterThanOrEqual(6); }, { timeout: 3000, interval: 20 });
    for (const e of catalog.endpoints) expect(renewals().filter((l) => l.includes(`/${e.address}:catalog:${e.port}?`)).length).toBeGreaterThanOrEqual(2);

    // Evicted behind its back (a paused demo, a restarted server): the next heartbeat's 404 brings it back.
    const first = catalog.endpoints[0];
    if (first === undefined) return;
    const id = `${first.address}:catalog:${first.port}`;
    f.drop('CATALOG', id);
    await vi.waitFor(() => { expect(f.apps.get('CATALOG')?.has(id)).toBe(true); }, { timeout: 3000, interval: 20 });

    expect(await apps.cancelAll()).toEqual([]);
    expect(f.apps.get('CATALOG')).toBeUndefined();
    const after = f.log.length;
    await new Promise((r) => setTimeout(r, 350));
    expect(f.log.slice(after), 'no heartbeat (or re-registration) after the cancel').toEqual([]);
  });
});
