import { afterEach, describe, expect, it, vi } from 'vitest';
import { EurekaClient } from './client.ts';
import { EurekaSource } from './source.ts';
import { startFakeEureka, type FakeEureka } from './fake-server.ts';
import type { EurekaInstance } from './native.ts';

const WAIT = { timeout: 5000, interval: 10 };
const REF = { namespace: 'default', name: 'greeter' };
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); });

function inst(i: number, over: Partial<EurekaInstance> = {}): EurekaInstance {
  return { instanceId: `10.0.0.${i}:greeter:8080`, app: 'GREETER', ipAddr: `10.0.0.${i}`, status: 'UP', overriddenStatus: 'UNKNOWN', port: { $: 8080, '@enabled': 'true' }, vipAddress: 'greeter', metadata: {}, ...over };
}

async function setup(over: Partial<ConstructorParameters<typeof EurekaSource>[2]> = {}): Promise<{ f: FakeEureka; source: EurekaSource }> {
  const f = await startFakeEureka();
  const abort = new AbortController();
  closers.push(() => { abort.abort(); }, () => f.close());
  const client = new EurekaClient({ registry: 'eureka', servers: [f.base], requestTimeoutMs: 2000 });
  const source = new EurekaSource('eureka', client, {
    settings: { registry: 'eureka', namespace: 'default', services: ['*'], nameFrom: 'app', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone' },
    fetchIntervalMs: 20,
    fullFetchAfterMs: 60_000,
    selfPreservation: 'hold',
    emptyAnswer: 'hold',
    ...over,
  });
  for (const i of [1, 2]) f.put(inst(i));
  f.clearDelta();
  await source.start(abort.signal);
  return { f, source };
}

const addresses = (source: EurekaSource) => source.get(REF)?.endpoints.map((e) => `${e.address}:${e.ready ? 'ready' : 'not-ready'}`);

describe('eureka source', () => {
  it('starts with a full fetch, then follows deltas (status changes, adds, deletes) without fetching all again', async () => {
    const { f, source } = await setup();
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, WAIT);
    expect(addresses(source)).toEqual(['10.0.0.1:ready', '10.0.0.2:ready']);
    f.put({ ...inst(2), status: 'DOWN' });
    f.put(inst(3));
    await vi.waitFor(() => { expect(addresses(source)).toEqual(['10.0.0.1:ready', '10.0.0.2:not-ready', '10.0.0.3:ready']); }, WAIT);
    f.drop('GREETER', '10.0.0.1:greeter:8080');
    await vi.waitFor(() => { expect(addresses(source)).toEqual(['10.0.0.2:not-ready', '10.0.0.3:ready']); }, WAIT);
    expect(source.fetches.full).toBe(1);
    expect(source.fetches.delta).toBeGreaterThan(1);
    expect(source.health()).toMatchObject({ reachable: true });
    expect(source.health().holdRemovals).toBeUndefined();
  });

  it('a reconcile hash mismatch forces a full fetch, which repairs a change the delta missed', async () => {
    const { f, source } = await setup();
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, WAIT);
    // A change the delta queue no longer holds (it keeps 3 min): only the hash can tell.
    f.put(inst(4));
    f.clearDelta();
    await vi.waitFor(() => { expect(addresses(source)).toContain('10.0.0.4:ready'); }, WAIT);
    expect(source.fetches.mismatches).toBeGreaterThan(0);
    expect(source.fetches.full).toBeGreaterThan(1);
  });

  it('never reports our own registrations', async () => {
    const { f, source } = await setup();
    f.put(inst(9, { metadata: { 'isthmus.managed-by': 'any-bridge' } }));
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, WAIT);
    await new Promise((r) => setTimeout(r, 100));
    expect(addresses(source)).toEqual(['10.0.0.1:ready', '10.0.0.2:ready']);
  });

  it('an outage freezes the last view and says unreachable; it recovers', async () => {
    const { f, source } = await setup();
    // Synced is not yet reachable: contact is counted after the self-preservation read, and an
    // unreachable source from before the first contact has no error to show.
    await vi.waitFor(() => { expect(source.hasSynced() && source.health().reachable).toBe(true); }, WAIT);
    f.failWith = 503;
    await vi.waitFor(() => { expect(source.health().reachable).toBe(false); }, WAIT);
    expect(source.health().lastError).toMatch(/503/);
    expect(addresses(source)).toHaveLength(2);
    f.failWith = undefined;
    f.drop('GREETER', '10.0.0.2:greeter:8080');
    await vi.waitFor(() => { expect(addresses(source)).toEqual(['10.0.0.1:ready']); }, WAIT);
    expect(source.health().reachable).toBe(true);
  });

  it('an answer with none of the imported instances left is held: last view kept, reason in health, cleared when one is back', async () => {
    const { f, source } = await setup();
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, WAIT);
    f.drop('GREETER', '10.0.0.1:greeter:8080');
    f.drop('GREETER', '10.0.0.2:greeter:8080');
    await vi.waitFor(() => { expect(source.health().holdRemovals).toMatch(/none of the 2 imported instances/); }, WAIT);
    expect(source.health().reachable).toBe(true);
    expect(addresses(source)).toHaveLength(2);
    const nudged: string[] = [];
    source.onChange((r) => nudged.push(r.name));
    f.put(inst(5));
    await vi.waitFor(() => { expect(addresses(source)).toEqual(['10.0.0.5:ready']); }, WAIT);
    expect(source.health().holdRemovals).toBeUndefined();
    expect(nudged).toContain('greeter');
  });

  it('with emptyAnswer: apply, an empty answer is the truth', async () => {
    const { f, source } = await setup({ emptyAnswer: 'apply' });
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, WAIT);
    f.drop('GREETER', '10.0.0.1:greeter:8080');
    f.drop('GREETER', '10.0.0.2:greeter:8080');
    await vi.waitFor(() => { expect(source.get(REF)).toBeUndefined(); }, WAIT);
    expect(source.health().holdRemovals).toBeUndefined();
  });

  it('self-preservation on the dashboard holds removals with a reason, and lifts it when it ends', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    closers.push(() => { vi.useRealTimers(); });
    const { f, source } = await setup();
    f.selfPreservation = true;
    await vi.waitFor(() => { expect(source.health().holdRemovals).toMatch(/self-preservation: lease expiration is off \(renews last minute 2, threshold 5\)/); }, WAIT);
    f.selfPreservation = false;
    // The dashboard is read at most every 10 s.
    vi.setSystemTime(Date.now() + 11_000);
    await vi.waitFor(() => { expect(source.health().holdRemovals).toBeUndefined(); }, WAIT);
    expect(f.log.filter((l) => l === 'GET /').length).toBeLessThanOrEqual(3);
  });
});
