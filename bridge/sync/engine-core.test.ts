import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import { BridgeError } from '../errors/index.ts';
import type { Endpoint } from '../model/index.ts';
import { Engine } from './engine.ts';
import type { EngineLogger } from './logger-port.ts';
import { ep, route, World } from './testing/fixture.ts';

const orders = { namespace: 'shop', name: 'orders' };
const FAST_GUARD = { deleteGuard: { maxShrinkPercent: 100, holdSeconds: 0, registryEmpty: 'propagate' as const } };

let world: World;
afterEach(async () => { await world.close(); });

function stored(w: World, id: string, ref = orders): Endpoint[] {
  const svc = w.registry(id).registry.service(ref);
  return [...(svc?.endpoints.values() ?? [])].filter((e) => e.owner !== undefined).map((e) => e.endpoint).sort((a, b) => a.address.localeCompare(b.address));
}

describe('health is state', () => {
  it('writes a not-ready endpoint as not ready at once, holds nothing, and brings it back', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    world.put('vm', orders, ep('10.0.0.2', 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    const started = Date.now();
    world.put('vm', orders, ep('10.0.0.2', 8080, 'vm', { ready: false, serving: false }));
    await vi.waitFor(() => { expect(stored(world, 'k8s').map((e) => e.ready)).toEqual([true, false]); }, { timeout: 1000, interval: 5 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(engine.summary().held).toEqual([]);
    // The whole service going unhealthy is health too, not a 100 % shrink.
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm', { ready: false, serving: false }));
    await vi.waitFor(() => { expect(stored(world, 'k8s').map((e) => e.ready)).toEqual([false, false]); }, { timeout: 1000, interval: 5 });
    expect(engine.summary().held).toEqual([]);
    for (const a of ['10.0.0.1', '10.0.0.2']) world.put('vm', orders, ep(a, 8080, 'vm'));
    await vi.waitFor(() => { expect(stored(world, 'k8s').map((e) => e.ready)).toEqual([true, true]); }, { timeout: 1000, interval: 5 });
  });

  it('exportDraining: false writes a draining endpoint as down instead of dropping it', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    world.put('vm', orders, ep('10.0.0.2', 8080, 'vm', { ready: false, serving: true, terminating: true }));
    const engine = await world.engine([route('vm', 'k8s', { exportDraining: false })]);
    await engine.whenIdle();
    expect(stored(world, 'k8s').map((e) => [e.ready, e.serving, e.terminating])).toEqual([[true, true, false], [false, false, true]]);
  });
});

describe('service-level changes converge', () => {
  it('a port-only change writes once, and a resync writes nothing', async () => {
    world = new World();
    const vm = world.registry('vm').registry;
    vm.upsertService(orders, [{ name: 'http', port: 8080 }], { team: 'a' });
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    const writes = world.writes('k8s');
    vm.upsertService(orders, [{ name: 'http', port: 8080 }, { name: 'admin', port: 9000 }], { team: 'a' });
    await vi.waitFor(() => { expect(world.registry('k8s').registry.service(orders)?.ports).toHaveLength(2); }, { timeout: 1000, interval: 5 });
    await engine.whenIdle();
    expect(world.writes('k8s') - writes).toBe(1);
    await engine.resync();
    await engine.whenIdle();
    expect(world.writes('k8s') - writes).toBe(1);
  });
});

describe('no record can stop the bridge', () => {
  it('quarantines a service whose name holds "/" and keeps syncing the rest', async () => {
    world = new World();
    world.put('vm', { namespace: 'shop', name: 'orders/v2' }, ep('10.0.0.7', 8080, 'vm'));
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    expect(stored(world, 'k8s').map((e) => e.address)).toEqual(['10.0.0.1']);
    expect(engine.summary().quarantined.map((q) => q.reason)).toEqual([expect.stringMatching(/contains "\/"/)]);
    world.put('vm', orders, ep('10.0.0.2', 8080, 'vm'));
    await vi.waitFor(() => { expect(stored(world, 'k8s')).toHaveLength(2); });
  });

  it('a sink that throws a bug keeps the workers alive for every other target', async () => {
    world = new World();
    const users = { namespace: 'shop', name: 'users' };
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    world.put('vm', users, ep('10.0.0.2', 8080, 'vm'));
    const proto = MemorySink.prototype;
    const original = Object.getOwnPropertyDescriptor(proto, 'plan')?.value as (...args: unknown[]) => unknown;
    const spy = vi.spyOn(proto, 'plan').mockImplementation(function (this: MemorySink, state, desired) {
      if (state.ref.name === 'orders') throw new TypeError('cannot read properties of undefined');
      return Reflect.apply(original, this, [state, desired]) as ReturnType<MemorySink['plan']>;
    });
    const engine = await world.engine([route('vm', 'k8s')], { retry: { baseMs: 10, maxMs: 20 } });
    await vi.waitFor(() => { expect(stored(world, 'k8s', users)).toHaveLength(1); });
    await vi.waitFor(() => { expect(engine.summary().errors.map((e) => e.ref.name)).toEqual(['orders']); });
    spy.mockRestore();
    await vi.waitFor(() => { expect(stored(world, 'k8s')).toHaveLength(1); });
  });
});

describe('what a sink refuses', () => {
  it('shows in status as quarantined for that target, and goes when the sink takes it', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    let refuse = true;
    const proto = MemorySink.prototype;
    const original = Object.getOwnPropertyDescriptor(proto, 'plan')?.value as (...args: unknown[]) => ReturnType<MemorySink['plan']>;
    const spy = vi.spyOn(proto, 'plan').mockImplementation(function (this: MemorySink, state, desired) {
      const plan = Reflect.apply(original, this, [state, desired]);
      return refuse ? { ...plan, refusals: [{ nativeId: 'annotation dubbo-interfaces', reason: 'value would split a znode path' }] } : plan;
    });
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    expect(engine.explain(orders).quarantined).toEqual([expect.objectContaining({ registry: 'k8s', nativeId: 'annotation dubbo-interfaces', reason: 'value would split a znode path' })]);
    refuse = false;
    await engine.resync();
    await engine.whenIdle();
    expect(engine.summary().quarantined).toEqual([]);
    spy.mockRestore();
  });
});

describe('a failing sink is backed off as a whole', () => {
  function countingLogger(): { logger: EngineLogger; lines: () => number } {
    let n = 0;
    const count = (): void => { n++; };
    return { logger: { debug: () => undefined, info: count, warn: count, error: count }, lines: () => n };
  }

  for (const [label, err] of [
    ['refusing (403)', new BridgeError('ISTHMUS_REGISTRY_AUTH', 'consul: 403 Permission denied')],
    ['unreachable', new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', 'consul: connect ECONNREFUSED')],
  ] as const) {
    it(`a ${label} sink gets one request per backoff period, and a handful of log lines`, async () => {
      world = new World();
      const vm = new MemoryRegistry();
      for (let i = 1; i <= 50; i++) vm.putEndpoint({ namespace: 'shop', name: `svc-${i}` }, ep(`10.0.1.${i}`, 80, 'vm'));
      const source = new MemorySource('vm', vm);
      const abort = new AbortController();
      await source.start(abort.signal);
      const target = new MemorySink('consul', new MemoryRegistry(), 'b');
      target.failing = err;
      const { logger, lines } = countingLogger();
      const engine = new Engine({ bridgeId: 'b', sources: [source], sinks: [target], routes: [route('vm', 'consul')], quietMs: 1, maxDelayMs: 5, logger, retry: { baseMs: 50, maxMs: 400 } });
      engine.start();
      await new Promise((r) => setTimeout(r, 2000));
      // Backoff 50, 100, 200, 400, 400…: about 8 requests in 2 s; without backoff, 20 at 100 ms.
      expect(target.calls).toBeGreaterThanOrEqual(3);
      expect(target.calls).toBeLessThanOrEqual(9);
      expect(lines()).toBeLessThanOrEqual(3);
      // It recovers: the gate opens and all 50 services are written.
      target.failing = undefined;
      await vi.waitFor(() => { expect(engine.synced()).toBe(true); }, { timeout: 3000 });
      await engine.whenIdle();
      expect(await target.ownedRefs()).toHaveLength(50);
      // Once open, a sink failing as a whole is probed by one key at a time, not by all 50.
      target.failing = err;
      const before = target.calls;
      for (let i = 1; i <= 50; i++) vm.putEndpoint({ namespace: 'shop', name: `svc-${i}` }, ep(`10.0.2.${i}`, 80, 'vm'));
      await new Promise((r) => setTimeout(r, 2000));
      expect(target.calls - before).toBeLessThanOrEqual(10);
      target.failing = undefined;
      await engine.stop();
      abort.abort();
    });
  }
});

describe('bounded state', () => {
  // 20,000 names in four rounds: a structure that kept one entry per name, or per round, shows
  // after the first; more rounds only cost CPU in the suite (issue 17).
  it('churning 20,000 service names leaves the bookkeeping at its baseline', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s', FAST_GUARD)], { workers: 4 });
    await engine.whenIdle();
    const baseline = engine.bookkeeping();
    const vm = world.registry('vm').registry;
    const batch = 5_000;
    for (let round = 0; round < 20_000 / batch; round++) {
      const refs = Array.from({ length: batch }, (_, i) => ({ namespace: 'churn', name: `svc-${round}-${i}` }));
      for (const [i, ref] of refs.entries()) vm.putEndpoint(ref, ep(`10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, 80, 'vm'));
      await engine.whenIdle();
      for (const ref of refs) vm.deleteService(ref);
      await engine.whenIdle();
    }
    expect(world.registry('k8s').registry.services().filter((s) => s.ref.namespace === 'churn')).toEqual([]);
    expect(engine.bookkeeping()).toEqual(baseline);
  }, 120_000);
});

describe('the deletion guard and sinks that store fewer ports', () => {
  it('an owned record with one of the desired endpoint\'s ports, under another name, is not a removal', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm', { ports: { http: 8080, management: 8081 } }));
    const proto = MemorySink.prototype;
    const original = Object.getOwnPropertyDescriptor(proto, 'read')?.value as (...args: unknown[]) => Promise<Awaited<ReturnType<MemorySink['read']>>>;
    // A sink that keeps only the main port, named its own way (as Consul and Nacos do).
    const spy = vi.spyOn(proto, 'read').mockImplementation(async function (this: MemorySink, ref) {
      const state = await Reflect.apply(original, this, [ref]);
      const observed = state.observed === undefined ? undefined : { ...state.observed, endpoints: state.observed.endpoints.map((e) => ({ ...e, ports: { web: e.ports['http'] ?? 0 } })) };
      return { ...state, observed };
    });
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    await engine.resync();
    await engine.whenIdle();
    expect(engine.summary().held).toEqual([]);
    spy.mockRestore();
  });
});
