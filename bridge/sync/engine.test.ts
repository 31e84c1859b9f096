import { afterEach, describe, expect, it, vi } from 'vitest';
import { ep, route, World } from './testing/fixture.ts';

const orders = { namespace: 'shop', name: 'orders' };

let world: World;
afterEach(async () => { await world.close(); });

function owned(w: World, id: string, ref = orders): string[] {
  const svc = w.registry(id).registry.service(ref);
  return [...(svc?.endpoints.values() ?? [])].filter((e) => e.owner !== undefined).map((e) => e.endpoint.address).sort();
}

describe('Engine', () => {
  it('converges, and a second reconcile of everything writes nothing', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    world.put('vm', orders, ep('10.0.0.2', 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1', '10.0.0.2']);
    const writes = world.writes('k8s');
    expect(writes).toBe(3); // the service record and two endpoints
    await engine.resync();
    await engine.whenIdle();
    expect(world.writes('k8s')).toBe(writes);
  });

  it('a restart of the bridge writes nothing', async () => {
    world = new World();
    for (let i = 1; i <= 20; i++) world.put('vm', { namespace: 'shop', name: `svc-${i}` }, ep(`10.0.1.${i}`, 80, 'vm'));
    const first = await world.engine([route('vm', 'k8s')]);
    await first.whenIdle();
    await first.stop();
    const before = { k8s: world.writes('k8s'), vm: world.writes('vm') };
    const second = await world.engine([route('vm', 'k8s')]);
    await second.whenIdle();
    expect({ k8s: world.writes('k8s'), vm: world.writes('vm') }).toEqual(before);
  });

  it('deletes nothing while a source has not synced', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    const first = await world.engine([route('vm', 'k8s')]);
    await first.whenIdle();
    await first.stop();
    world.registry('vm').registry.deleteService(orders); // deleted while the bridge was down
    const writes = world.writes('k8s');
    const second = await world.engine([route('vm', 'k8s')], {}, { unstarted: ['vm'] });
    await new Promise((r) => setTimeout(r, 300)); // asserting that nothing happens: a bounded look
    expect(second.synced()).toBe(false);
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1']);
    expect(world.writes('k8s')).toBe(writes);
  });

  it('garbage-collects what it owns for a service deleted while the bridge was down, after the hold', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    const guard = { deleteGuard: { maxShrinkPercent: 50, holdSeconds: 0.3, registryEmpty: 'propagate' as const } };
    const first = await world.engine([route('vm', 'k8s', guard)]);
    await first.whenIdle();
    await first.stop();
    world.registry('vm').registry.deleteService(orders);
    const second = await world.engine([route('vm', 'k8s', guard)]);
    await second.whenIdle();
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1']); // a 100 % shrink: held first
    expect(second.summary().held[0]?.reason).toMatch(/1 of 1 endpoints/);
    await vi.waitFor(() => { expect(world.registry('k8s').registry.service(orders)).toBeUndefined(); }, { timeout: 3000 });
  });

  it('freezes while a source is unreachable, and catches up when it returns', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    world.put('vm', orders, ep('10.0.0.2', 8080, 'vm'));
    // The shrink guard is off here so the catch-up is visible at once; it is tested below.
    const engine = await world.engine([route('vm', 'k8s', { deleteGuard: { maxShrinkPercent: 100, holdSeconds: 0, registryEmpty: 'hold' } })]);
    await engine.whenIdle();
    const vm = world.lastSources.get('vm')!;
    vm.disconnect('connection refused');
    world.registry('vm').registry.deleteService(orders);
    await engine.resync();
    await engine.whenIdle();
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(engine.summary().sources.find((s) => s.id === 'vm')?.health.reachable).toBe(false);
    world.put('vm', orders, ep('10.0.0.3', 8080, 'vm'));
    vm.reconnect();
    await vi.waitFor(() => { expect(owned(world, 'k8s')).toEqual(['10.0.0.3']); });
  });

  it('holds a shrink of more than half a service, shows it in status, and releases it after holdSeconds', async () => {
    world = new World();
    for (let i = 1; i <= 4; i++) world.put('vm', orders, ep(`10.0.0.${i}`, 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s', { deleteGuard: { maxShrinkPercent: 50, holdSeconds: 0.5, registryEmpty: 'hold' } })]);
    await engine.whenIdle();
    const reg = world.registry('vm').registry;
    for (let i = 2; i <= 4; i++) reg.deleteEndpoint(orders, `10.0.0.${i}|http=8080`);
    await engine.whenIdle();
    expect(owned(world, 'k8s')).toHaveLength(4);
    const held = engine.summary().held;
    expect(held).toHaveLength(1);
    expect(held[0]?.reason).toMatch(/3 of 4 endpoints \(75%\)/);
    expect(engine.explain(orders).targets[0]?.outcome).toBe('held');
    await vi.waitFor(() => { expect(owned(world, 'k8s')).toEqual(['10.0.0.1']); }, { timeout: 3000 });
    expect(engine.summary().held).toHaveLength(0);
  });

  it('holds a burst of removals that reaches it as two passes, judged against what it held just before', async () => {
    world = new World();
    for (let i = 1; i <= 3; i++) world.put('vm', orders, ep(`10.0.0.${i}`, 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s', { deleteGuard: { maxShrinkPercent: 50, holdSeconds: 60, registryEmpty: 'hold' } })], { quietMs: 1, maxDelayMs: 5_000 });
    await engine.whenIdle();
    const reg = world.registry('vm').registry;
    reg.deleteEndpoint(orders, '10.0.0.3|http=8080');
    await engine.whenIdle();
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1', '10.0.0.2']); // 1 of 3: let through
    reg.deleteEndpoint(orders, '10.0.0.2|http=8080');
    await engine.whenIdle();
    // 1 of 2 alone would pass; with the 3 held a moment ago it is 2 of 3, held.
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(engine.summary().held[0]?.reason).toMatch(/2 of 3 endpoints \(67%\)/);
  });

  it('lets a removal through once the window since the last one has passed', async () => {
    world = new World();
    for (let i = 1; i <= 3; i++) world.put('vm', orders, ep(`10.0.0.${i}`, 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s', { deleteGuard: { maxShrinkPercent: 50, holdSeconds: 60, registryEmpty: 'hold' } })], { quietMs: 1, maxDelayMs: 50 });
    await engine.whenIdle();
    const reg = world.registry('vm').registry;
    reg.deleteEndpoint(orders, '10.0.0.3|http=8080');
    await engine.whenIdle();
    await new Promise((r) => setTimeout(r, 120)); // past the 50 ms window: a later, separate change
    reg.deleteEndpoint(orders, '10.0.0.2|http=8080');
    await engine.whenIdle();
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1']);
    expect(engine.summary().held).toEqual([]);
  });

  it('propagates a shrink of half or less at once', async () => {
    world = new World();
    for (let i = 1; i <= 4; i++) world.put('vm', orders, ep(`10.0.0.${i}`, 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    const reg = world.registry('vm').registry;
    reg.deleteEndpoint(orders, '10.0.0.3|http=8080');
    reg.deleteEndpoint(orders, '10.0.0.4|http=8080');
    await vi.waitFor(() => { expect(owned(world, 'k8s')).toEqual(['10.0.0.1', '10.0.0.2']); });
  });

  it('holds the removals of a registry that went empty', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s', { deleteGuard: { maxShrinkPercent: 100, holdSeconds: 0, registryEmpty: 'hold' } })]);
    await engine.whenIdle();
    world.registry('vm').registry.deleteService(orders);
    await engine.whenIdle();
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1']);
    expect(engine.summary().held[0]?.reason).toMatch(/went empty/);
  });

  it('quarantines a malformed record with its reason and keeps syncing the rest', async () => {
    world = new World();
    const users = { namespace: 'shop', name: 'users' };
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    world.put('vm', orders, ep('not-an-ip', 8080, 'vm'));
    world.put('vm', users, ep('10.0.0.9', 70000, 'vm'));
    world.put('vm', users, ep('10.0.0.8', 80, 'vm'));
    const engine = await world.engine([route('vm', 'k8s')]);
    await engine.whenIdle();
    expect(owned(world, 'k8s')).toEqual(['10.0.0.1']);
    expect(owned(world, 'k8s', users)).toEqual(['10.0.0.8']);
    const reasons = engine.summary().quarantined.map((q) => q.reason).sort();
    expect(reasons).toEqual(['address "not-an-ip" is not an IP address', 'port http=70000 is outside 1-65535']);
    expect(engine.explain(orders).quarantined).toHaveLength(1);
  });

  it('settles an A⇄B route pair with no ping-pong: bridge writes equal changes', async () => {
    world = new World();
    const users = { namespace: 'shop', name: 'users' };
    world.put('a', orders, ep('10.0.0.1', 80, 'a'));
    world.put('b', users, ep('10.1.0.1', 80, 'b'));
    world.put('b', orders, ep('10.1.0.2', 80, 'b')); // mixed phase: orders lives on both sides
    const before = { a: world.writes('a'), b: world.writes('b') };
    const engine = await world.engine([route('a', 'b'), route('b', 'a')]);
    await engine.whenIdle();
    // a gets users (service + endpoint) and b's orders endpoint; b gets a's orders endpoint.
    expect({ a: world.writes('a') - before.a, b: world.writes('b') - before.b }).toEqual({ a: 3, b: 1 });
    expect(owned(world, 'a')).toEqual(['10.1.0.2']);
    expect(owned(world, 'b')).toEqual(['10.0.0.1']);
    const settled = { a: world.writes('a'), b: world.writes('b') };
    world.put('a', orders, ep('10.0.0.5', 80, 'a'));
    await engine.whenIdle();
    expect({ a: world.writes('a') - settled.a, b: world.writes('b') - settled.b }).toEqual({ a: 1, b: 1 });
    await engine.resync();
    await engine.whenIdle();
    expect({ a: world.writes('a') - settled.a, b: world.writes('b') - settled.b }).toEqual({ a: 1, b: 1 });
  });

  it('retries a failing sink with backoff and reports the error in status', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    const engine = await world.engine([route('vm', 'k8s')], { retry: { baseMs: 20, maxMs: 50 } });
    await engine.whenIdle();
    world.registry('vm').registry.putEndpoint(orders, ep('10.0.0.2', 8080, 'vm'));
    const k8s = world.registry('k8s').sink;
    expect(k8s).toBeDefined();
    // The engine owns its own sink views; break the registry underneath them instead.
    const reg = world.registry('k8s').registry;
    const put = vi.spyOn(reg, 'putEndpoint').mockImplementation(() => { throw new Error('503 from registry'); });
    await vi.waitFor(() => { expect(engine.summary().errors[0]?.error).toMatch(/503/); });
    put.mockRestore();
    await vi.waitFor(() => { expect(owned(world, 'k8s')).toEqual(['10.0.0.1', '10.0.0.2']); });
    await vi.waitFor(() => { expect(engine.summary().errors).toHaveLength(0); });
  });
});

describe('Engine leadership', () => {
  it('writes nothing as a follower, and catches up on everything when it becomes the writer', async () => {
    world = new World();
    world.put('vm', orders, ep('10.0.0.1', 8080, 'vm'));
    let leader = false;
    const engine = await world.engine([route('vm', 'k8s')], { isWriter: () => leader });
    await engine.whenIdle();
    expect(world.writes('k8s')).toBe(0);
    expect(engine.summary().leader).toBe(false);
    leader = true;
    world.put('vm', { namespace: 'shop', name: 'users' }, ep('10.0.0.2', 8080, 'vm'));
    await vi.waitFor(() => { expect(owned(world, 'k8s')).toEqual(['10.0.0.1']); });
    expect(owned(world, 'k8s', { namespace: 'shop', name: 'users' })).toEqual(['10.0.0.2']);
  });
});
