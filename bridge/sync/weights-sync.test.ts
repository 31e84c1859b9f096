import { afterEach, describe, expect, it } from 'vitest';
import { NO_METRICS } from './sync-metrics.ts';
import { ep, route, World } from './testing/fixture.ts';
import { Weights } from './weights.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };
let world: World;

afterEach(async () => { await world.close(); });

/** Weights of the endpoints Isthmus wrote into `registry` (owned records only). */
function exportedWeights(registry: string): number[] {
  const svc = world.registry(registry).registry.service(ORDERS);
  return [...(svc?.endpoints.values() ?? [])].filter((e) => e.owner !== undefined).map((e) => e.endpoint.weight).sort((a, b) => a - b);
}

describe('migration weights in registries that carry weights', () => {
  it('weighs exported pods against the native VM records, and follows a runtime change', async () => {
    world = new World();
    world.put('nacos', ORDERS, ep('10.0.0.1', 8080, 'nacos'));
    world.put('nacos', ORDERS, ep('10.0.0.2', 8080, 'nacos'));
    world.put('k8s', ORDERS, ep('10.1.0.1', 8080, 'k8s'));
    world.put('k8s', ORDERS, ep('10.1.0.2', 8080, 'k8s'));
    const weights = new Weights({ 'shop/orders': { nacos: 90, k8s: 10 } });
    const engine = await world.engine([route('k8s', 'nacos')], { weights });
    await engine.whenIdle();
    // VMs weigh 200 together and are not ours to change: pods get 200 × 10/90 ≈ 22, 11 each.
    expect(exportedWeights('nacos')).toEqual([11, 11]);

    weights.set(ORDERS, { nacos: 50, k8s: 50 });
    await new Promise((r) => setTimeout(r, 50));
    await engine.whenIdle();
    expect(exportedWeights('nacos')).toEqual([100, 100]);

    // Clearing the runtime split returns to the config file's, as a restart would.
    weights.set(ORDERS, undefined);
    await new Promise((r) => setTimeout(r, 50));
    await engine.whenIdle();
    expect(exportedWeights('nacos')).toEqual([11, 11]);

    // A ServiceMigration's split wins over both, and leaving it returns to them.
    weights.set(ORDERS, { nacos: 50, k8s: 50 });
    weights.declare(new Map([['shop/orders', { nacos: 10, k8s: 90 }]]));
    await new Promise((r) => setTimeout(r, 50));
    await engine.whenIdle();
    expect(exportedWeights('nacos')).toEqual([900, 900]);
    weights.declare(new Map());
    await new Promise((r) => setTimeout(r, 50));
    await engine.whenIdle();
    expect(exportedWeights('nacos')).toEqual([100, 100]);
    await engine.stop();
  });

  it('leaves weights alone for services without a split', async () => {
    world = new World();
    world.put('k8s', ORDERS, ep('10.1.0.1', 8080, 'k8s', { weight: 300 }));
    const engine = await world.engine([route('k8s', 'nacos')], { weights: new Weights({ 'shop/pay': { k8s: 1 } }) });
    await engine.whenIdle();
    expect(exportedWeights('nacos')).toEqual([300]);
    await engine.stop();
  });

  it('re-checks only the changed service, not every key of every source', async () => {
    world = new World();
    for (let i = 0; i < 200; i++) world.put('k8s', { namespace: 'shop', name: `svc-${i}` }, ep(`10.1.0.${i % 250}`, 8080, 'k8s'));
    world.put('nacos', ORDERS, ep('10.0.0.1', 8080, 'nacos'));
    world.put('k8s', ORDERS, ep('10.1.1.1', 8080, 'k8s'));
    let reconciles = 0;
    const metrics = { ...NO_METRICS, reconciled: () => { reconciles++; } };
    const weights = new Weights();
    const engine = await world.engine([route('k8s', 'nacos'), route('nacos', 'k8s')], { weights, metrics });
    await engine.whenIdle();
    reconciles = 0;
    weights.set(ORDERS, { nacos: 90, k8s: 10 });
    await new Promise((r) => setTimeout(r, 50));
    await engine.whenIdle();
    // shop/orders in nacos and in k8s: two targets, whatever the other 200 services do.
    expect(reconciles).toBe(2);
    await engine.stop();
  });
});
