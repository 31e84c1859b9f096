// "Cannot tell" is never mass deletion, against real Eureka servers:
// - an answer with none of the imported instances left holds the removals, keeps the last view,
//   and says why in the source's health and the engine's held changes; one instance back clears it;
// - a private server with its default settings (self-preservation on) and a handful of
//   registrations sits in self-preservation ("Lease expiration enabled: false" on its dashboard):
//   a cancelled instance's removal is held with that reason in status; with selfPreservation:
//   ignore it goes through.
import { setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { createEurekaSource } from '../../adapters/eureka/index.ts';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import type { Source } from '../../bridge/ports/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { startPrivateEureka, type PrivateEureka } from '../servers/index.ts';
import { NativeEureka, ctx, eurekaOptions, runId, sharedEureka } from './eureka-support.ts';

const WAIT = { timeout: 20_000, interval: 20 };
const BRIDGE = 'it-eureka-guard';

function ep(i: number): Endpoint {
  return { address: `10.83.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: `vm-${i}` } };
}

describe('eureka: cannot tell is not deletion (real servers)', () => {
  const run = runId();
  const abort = new AbortController();
  setMaxListeners(64, abort.signal);
  const engines: Engine[] = [];
  const servers: PrivateEureka[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((x) => x.stop()));
    abort.abort();
    await Promise.all(servers.map((s) => s.stop()));
  });

  function importer(source: Source): { target: MemoryRegistry; engine: Engine } {
    const target = new MemoryRegistry();
    const route: Route = { id: 'eureka->target', from: [source.id], to: 'target', select: {}, map: {}, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [new MemorySink('target', target, BRIDGE)], routes: [route], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    return { target, engine };
  }

  it('an answer with none of the imported instances left is held with a reason, and clears when one comes back', async () => {
    const base = await sharedEureka();
    const native = new NativeEureka(base);
    const ref = { namespace: 'default', name: `gd-${run}-empty` };
    for (const i of [1, 2, 3]) await native.register(ref, ep(i));
    const source = createEurekaSource(eurekaOptions(base, { services: [`gd-${run}-*`] }), ctx('eureka', BRIDGE));
    await source.start(abort.signal);
    const { target, engine } = importer(source);
    await vi.waitFor(() => { expect(target.service(ref)?.endpoints.size).toBe(3); }, WAIT);
    for (const i of [1, 2, 3]) await native.cancel(ref, ep(i));
    await vi.waitFor(() => { expect(source.health().holdRemovals).toMatch(/none of the 3 imported instances/); }, WAIT);
    expect(source.health().reachable).toBe(true);
    await engine.resync();
    await engine.whenIdle();
    expect(target.service(ref)?.endpoints.size).toBe(3);
    expect(source.get(ref)?.endpoints).toHaveLength(3);
    await native.register(ref, ep(4));
    await vi.waitFor(() => { expect(source.health().holdRemovals).toBeUndefined(); }, WAIT);
    // 3 → 1 is a shrink past the guard's 50 %: held by the engine's shrink rule now, with its own reason.
    await vi.waitFor(() => { expect(engine.summary().held.some((h) => /would go (at once|in a short window)/.test(h.reason))).toBe(true); }, WAIT);
    await native.cancel(ref, ep(4));
  }, 60_000);

  it('a server in self-preservation holds removals, with the reason in status; selfPreservation: ignore lets them through', async () => {
    const server = await startPrivateEureka();
    servers.push(server);
    const native = new NativeEureka(server.baseUrl);
    const ref = { namespace: 'default', name: `gd-${run}-sp` };
    for (const i of [1, 2, 3, 4]) await native.register(ref, ep(i));
    const held = createEurekaSource(eurekaOptions(server.baseUrl, { services: [`gd-${run}-*`] }), ctx('eureka', BRIDGE));
    const ignoring = createEurekaSource(eurekaOptions(server.baseUrl, { services: [`gd-${run}-*`], selfPreservation: 'ignore' }), ctx('eureka-ignore', BRIDGE));
    for (const s of [held, ignoring]) await s.start(abort.signal);
    const a = importer(held);
    const b = importer(ignoring);
    // Default settings answer from a read-only cache refreshed every 30 s.
    await vi.waitFor(() => { expect([a.target.service(ref)?.endpoints.size, b.target.service(ref)?.endpoints.size]).toEqual([4, 4]); }, { timeout: 60_000, interval: 100 });
    await vi.waitFor(() => { expect(held.health().holdRemovals).toMatch(/self-preservation/); }, WAIT);
    await native.cancel(ref, ep(4));
    await vi.waitFor(() => { expect(b.target.service(ref)?.endpoints.size).toBe(3); }, { timeout: 60_000, interval: 100 });
    await vi.waitFor(() => { expect(held.get(ref)?.endpoints).toHaveLength(3); }, WAIT);
    await a.engine.resync();
    await a.engine.whenIdle();
    expect(a.target.service(ref)?.endpoints.size).toBe(4);
    const hold = a.engine.summary().held.find((h) => h.ref.name === ref.name);
    expect(hold?.reason).toMatch(/self-preservation: lease expiration is off/);
    console.log(JSON.stringify({ figure: 'eureka-self-preservation-status', holdRemovals: held.health().holdRemovals, held: hold?.reason }));
  }, 180_000);
});
