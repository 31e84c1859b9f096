import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import { applyDesired, observeOwned } from '../../bridge/ports/index.ts';
import { EurekaClient } from './client.ts';
import type { ExportSettings } from './encode.ts';
import { startFakeEureka, type FakeEureka } from './fake-server.ts';
import { EurekaSink } from './sink.ts';

const WAIT = { timeout: 5000, interval: 10 };
const REF = { namespace: 'default', name: 'greeter' };
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); });

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.3.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `p${i}` }, ...over };
}

function snap(eps: Endpoint[]): ServiceSnapshot {
  return { ref: REF, ports: [{ name: 'http', port: 8080 }], endpoints: eps, metadata: {}, origin: 'k8s' };
}

async function server(): Promise<FakeEureka> {
  const f = await startFakeEureka();
  closers.push(() => f.close());
  return f;
}

async function sink(f: FakeEureka, bridgeId = 'b1', renewIntervalSeconds = 1, concurrency = 4): Promise<{ sink: EurekaSink; client: EurekaClient; resets: number[] }> {
  const client = new EurekaClient({ registry: 'eureka', servers: [f.base], requestTimeoutMs: 2000 });
  const settings: ExportSettings = { bridgeId, portName: 'http', securePortName: 'https', zoneMetaKey: 'zone', namespace: 'default', renewIntervalSeconds, leaseDurationSeconds: 3 };
  const s = new EurekaSink('eureka', client, { settings, renewConcurrency: concurrency });
  const abort = new AbortController();
  closers.unshift(() => { abort.abort(); });
  await s.start(abort.signal);
  const resets: number[] = [];
  s.onReset(() => resets.push(Date.now()));
  return { sink: s, client, resets };
}

const renewsOf = (f: FakeEureka) => f.log.filter((l) => l.startsWith('PUT') && !l.includes('/status')).length;

describe('eureka sink', () => {
  it('registers, then renews every lease once per interval; the next apply writes nothing', async () => {
    const f = await server();
    const { sink: s, client } = await sink(f);
    await applyDesired(s, snap([ep(1), ep(2)]));
    expect(client.writes).toBe(2);
    expect(f.apps.get('GREETER')?.size).toBe(2);
    expect((await applyDesired(s, snap([ep(2), ep(1)]))).operations).toEqual([]);
    await vi.waitFor(() => { expect(renewsOf(f)).toBeGreaterThanOrEqual(2); }, WAIT);
    expect(client.writes).toBe(2);
    expect(s.leaseCount()).toBe(2);
  });

  it('re-registers a lease the server lost (404 on renew), as a Spring client does', async () => {
    const f = await server();
    const { sink: s, client } = await sink(f);
    await applyDesired(s, snap([ep(1, conditionsOf('draining'))]));
    const id = [...(f.apps.get('GREETER')?.keys() ?? [])][0] ?? '';
    f.drop('GREETER', id);
    await vi.waitFor(() => { expect(f.apps.get('GREETER')?.get(id)?.status).toBe('OUT_OF_SERVICE'); }, WAIT);
    expect(client.writes).toBe(2);
  });

  it('a restarted sink adopts its instances from the server: zero writes, and it keeps them alive', async () => {
    const f = await server();
    const first = await sink(f);
    await applyDesired(first.sink, snap([ep(1), ep(2, conditionsOf('down'))]));
    const second = await sink(f);
    expect((await applyDesired(second.sink, snap([ep(1), ep(2, conditionsOf('down'))]))).operations).toEqual([]);
    expect(second.client.writes).toBe(0);
    expect((await observeOwned(second.sink, REF))?.endpoints.map((e) => e.ready)).toEqual([true, false]);
    await vi.waitFor(() => { expect(second.client.renewals).toBeGreaterThanOrEqual(2); }, WAIT);
    expect(await second.sink.ownedRefs()).toEqual([REF]);
  });

  it('an adopted lease that vanishes is not brought back (another replica may have cancelled it): the ref is re-read', async () => {
    const f = await server();
    const first = await sink(f);
    await applyDesired(first.sink, snap([ep(1)]));
    const follower = await sink(f);
    await follower.sink.read(REF);
    expect(follower.sink.leaseCount()).toBe(1);
    // The leader removes it (and stops renewing it).
    await applyDesired(first.sink, snap([]));
    await vi.waitFor(() => { expect(follower.resets.length).toBeGreaterThan(0); }, WAIT);
    expect(follower.sink.leaseCount()).toBe(0);
    expect(f.apps.get('GREETER')).toBeUndefined();
    expect((await follower.sink.read(REF)).held).toEqual([]);
  });

  it('only its own: another bridge\'s and native instances are neither listed nor touched; removal cancels', async () => {
    const f = await server();
    f.put({ instanceId: 'native', app: 'GREETER', ipAddr: '10.9.9.9', status: 'UP', port: { $: 80, '@enabled': 'true' }, metadata: {} });
    const mine = await sink(f, 'b1');
    const theirs = await sink(f, 'b2');
    await applyDesired(theirs.sink, snap([ep(1)]));
    await applyDesired(mine.sink, snap([ep(1), ep(2)]));
    expect(f.apps.get('GREETER')?.size).toBe(4);
    await mine.sink.remove(REF);
    expect([...(f.apps.get('GREETER')?.values() ?? [])].map((i) => i.metadata?.['isthmus.managed-by'] ?? 'native').sort()).toEqual(['b2', 'native']);
    expect(await mine.sink.ownedRefs()).toEqual([]);
    expect(mine.sink.leaseCount()).toBe(0);
  });

  it('renews with bounded concurrency', async () => {
    const f = await server();
    const { sink: s } = await sink(f, 'b1', 1, 2);
    await applyDesired(s, snap(Array.from({ length: 20 }, (_, i) => ep(i + 1))));
    let inFlight = 0;
    let peak = 0;
    const orig = globalThis.fetch;
    const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (...args) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await orig(...args);
      } finally {
        inFlight--;
      }
    });
    closers.push(() => { spy.mockRestore(); });
    await vi.waitFor(() => { expect(renewsOf(f)).toBeGreaterThanOrEqual(20); }, WAIT);
    expect(peak).toBeLessThanOrEqual(2);
  });
});
