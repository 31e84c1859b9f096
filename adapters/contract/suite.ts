import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY, conditionsOf, endpointKey } from '../../bridge/model/index.ts';
import type { EndpointField, Sink } from '../../bridge/ports/index.ts';
import { applyDesired, observeOwned, removeOwned } from '../../bridge/ports/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../memory/index.ts';
import type { ContractHarness } from './harness.ts';

const BRIDGE = 'contract-a';
const OTHER = 'contract-b';
const ORIGIN = 'vm';
const WAIT = { timeout: 30_000, interval: 100 };

/**
 * The behaviour every adapter promises (DESIGN §11), run against its real server:
 * idempotent apply, owned-only delete, marker round-trip, restart = zero writes, source outage =
 * zero deletes, recovery after a dropped watch.
 */
export function describeAdapterContract(name: string, makeHarness: () => Promise<ContractHarness>): void {
  describe(`${name} adapter contract`, () => {
    let h: ContractHarness;
    const engines: Engine[] = [];
    const aborts: AbortController[] = [];
    beforeEach(async () => { h = await makeHarness(); });
    afterEach(async () => {
      await Promise.all(engines.splice(0).map((e) => e.stop()));
      for (const a of aborts.splice(0)) a.abort();
      await h.close();
    });

    function snapshot(ref: ReturnType<ContractHarness['ref']>, endpoints: Endpoint[]): ServiceSnapshot {
      return { ref, ports: [{ name: Object.keys(endpoints[0]?.ports ?? { http: 0 })[0] ?? 'http', port: 8080 }], endpoints, metadata: {}, origin: ORIGIN };
    }

    it('apply is idempotent: observe round-trips the stored fields and a second apply writes nothing', async () => {
      const sink = await h.sink(BRIDGE);
      const ref = h.ref('idempotent');
      const want = snapshot(ref, [1, 2, 3].map((i) => h.endpoint(i, ORIGIN)));
      await applyDesired(sink, want);
      const seen = await observeOwned(sink, ref);
      expect(project(seen?.endpoints ?? [], sink.fields)).toEqual(project(want.endpoints, sink.fields));
      const writes = h.writes();
      expect((await applyDesired(sink, want)).operations).toEqual([]);
      await applyDesired(sink, { ...want, endpoints: seen?.endpoints ?? [] });
      expect(h.writes() - writes).toBe(0);
    });

    it('health is state: a not-ready endpoint is written as such (or withdrawn where the registry holds no health) and comes back', async () => {
      const sink = await h.sink(BRIDGE);
      const ref = h.ref('health');
      const [a, b] = [h.endpoint(1, ORIGIN), h.endpoint(2, ORIGIN)] as [Endpoint, Endpoint];
      await applyDesired(sink, snapshot(ref, [a, b]));
      const carriesHealth = sink.fields.includes('ready');
      for (const state of ['down', 'draining', 'ready'] as const) {
        const flipped = { ...b, ...conditionsOf(state) };
        const want = snapshot(ref, [a, flipped]);
        const writes = h.writes();
        await applyDesired(sink, want);
        const seen = (await observeOwned(sink, ref))?.endpoints ?? [];
        const got = seen.find((e) => endpointKey(e) === endpointKey(b));
        if (carriesHealth) expect(got && { ready: got.ready, serving: got.serving, terminating: got.terminating }, state).toEqual(conditionsOf(state));
        else expect(got === undefined, state).toBe(state !== 'ready');
        expect(seen.some((e) => endpointKey(e) === endpointKey(a)), state).toBe(true);
        // Without health in the registry, draining after down changes nothing visible.
        if (carriesHealth || state !== 'draining') expect(h.writes() - writes, state).toBeGreaterThan(0);
        // The pass after a health change plans nothing: the new state round-trips.
        expect(sink.plan(await sink.read(ref), want).operations, state).toEqual([]);
      }
    });

    it('service-level changes converge: after applying a changed port or metadata, the next pass plans nothing', async () => {
      const sink = await h.sink(BRIDGE);
      const ref = h.ref('shape');
      const eps = [h.endpoint(1, ORIGIN), h.endpoint(2, ORIGIN)];
      const base = snapshot(ref, eps);
      await applyDesired(sink, base);
      const portName = base.ports[0]?.name ?? 'http';
      const twoPorts = [{ name: portName, port: 8081 }, { name: 'admin', port: 9000 }];
      const variants: ServiceSnapshot[] = [
        { ...base, ports: [{ name: portName, port: 8081 }] },
        { ...base, ports: twoPorts },
        { ...base, ports: twoPorts, metadata: { 'contract.example/unrelated': 'x' } },
        { ...base, metadata: { ...h.serviceMetadata?.() } },
        base,
      ];
      for (const [i, v] of variants.entries()) {
        const writes = h.writes();
        await applyDesired(sink, v);
        expect(sink.plan(await sink.read(ref), v).operations, `variant ${i}`).toEqual([]);
        // A label no registry renders (an unrelated Kubernetes label, say) is not a write.
        if (i === 2 && h.rendersAllMetadata !== true) expect(h.writes() - writes, 'unrelated metadata').toBe(0);
      }
      const writes = h.writes();
      await applyDesired(sink, base);
      expect(h.writes() - writes).toBe(0);
    });

    it('touches only its own records: foreign and other-bridge records survive apply and remove', async () => {
      const ref = h.ref('owned-only');
      const foreign = h.endpoint(50, ORIGIN);
      await h.putNative(ref, foreign);
      const mine = await h.sink(BRIDGE);
      const theirs = await h.sink(OTHER);
      await applyDesired(theirs, snapshot(ref, [h.endpoint(60, ORIGIN)]));
      await applyDesired(mine, snapshot(ref, [h.endpoint(1, ORIGIN), h.endpoint(2, ORIGIN)]));
      await applyDesired(mine, snapshot(ref, [h.endpoint(2, ORIGIN)]));
      expect((await observeOwned(mine, ref))?.endpoints.map((e) => e.address)).toEqual([h.endpoint(2, ORIGIN).address]);
      await removeOwned(mine, ref);
      expect(await observeOwned(mine, ref)).toBeUndefined();
      expect((await removeOwned(mine, ref)).operations).toEqual([]);
      expect((await mine.ownedRefs()).some((r) => r.name === ref.name && r.namespace === ref.namespace)).toBe(false);
      expect((await h.listAll(ref)).sort()).toEqual([foreign.address, h.endpoint(60, ORIGIN).address].sort());
    });

    it('round-trips markers: origin comes back, and the source never reports what a bridge wrote', async () => {
      const ref = h.ref('markers');
      const sink = await h.sink(BRIDGE);
      const native = h.endpoint(7, ORIGIN);
      await h.putNative(ref, native);
      await applyDesired(sink, snapshot(ref, [h.endpoint(8, 'nacos-prod')]));
      const seen = await observeOwned(sink, ref);
      if (sink.fields.includes('origin')) expect(seen?.endpoints[0]?.origin.registry).toBe('nacos-prod');
      const source = await h.source();
      await vi.waitFor(() => { expect(source.get(ref)?.endpoints.map((e) => e.address)).toEqual([native.address]); }, WAIT);
    });

    it('a restart writes nothing: a second process with fresh clients converges with zero writes', async () => {
      const vm = new MemoryRegistry();
      const refs = [h.ref('restart-1'), h.ref('restart-2')];
      for (const [i, ref] of refs.entries()) for (const j of [1, 2]) vm.putEndpoint(ref, h.endpoint(i * 10 + j, ORIGIN));
      const run = async (): Promise<Engine> => {
        const source = new MemorySource(ORIGIN, vm);
        const abort = new AbortController();
        aborts.push(abort);
        await source.start(abort.signal);
        const sink = await h.sink(BRIDGE);
        const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [route(sink.id)], quietMs: 5, maxDelayMs: 50 });
        engines.push(engine);
        engine.start();
        await engine.whenIdle();
        return engine;
      };
      const first = await run();
      for (const ref of refs) expect(await h.listAll(ref)).toHaveLength(2);
      await first.stop();
      const writes = h.writes();
      await run();
      expect(h.writes() - writes).toBe(0);
    });

    it('a source outage deletes nothing downstream, and the source recovers after a dropped watch', async () => {
      const ref = h.ref('outage');
      for (const i of [1, 2]) await h.putNative(ref, h.endpoint(i, ORIGIN));
      const source = await h.source();
      const target = new MemoryRegistry();
      const sink = new MemorySink('target', target, BRIDGE);
      const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [{ ...route('target'), from: [source.id] }], quietMs: 5, maxDelayMs: 50 });
      engines.push(engine);
      engine.start();
      await vi.waitFor(() => { expect(target.service(ref)?.endpoints.size).toBe(2); }, WAIT);
      const restore = await h.cutOff(source);
      await h.deleteNative(ref, h.endpoint(1, ORIGIN));
      await h.deleteNative(ref, h.endpoint(2, ORIGIN));
      await vi.waitFor(() => { expect(source.health().reachable).toBe(false); }, WAIT);
      await engine.resync();
      await engine.whenIdle();
      expect(target.service(ref)?.endpoints.size).toBe(2);
      await h.putNative(ref, h.endpoint(3, ORIGIN));
      await restore();
      await h.dropWatch(source);
      await h.putNative(ref, h.endpoint(4, ORIGIN));
      const want = [h.endpoint(3, ORIGIN), h.endpoint(4, ORIGIN)].map(endpointKey).sort();
      await vi.waitFor(() => { expect([...(target.service(ref)?.endpoints.keys() ?? [])].sort()).toEqual(want); }, WAIT);
    });
  });
}

function route(to: string): { id: string; from: string[]; to: string; select: object; map: object; policy: typeof DEFAULT_POLICY } {
  // The contract checks the adapter, not the shrink guard: let shrinks through at once.
  return { id: `contract->${to}`, from: [ORIGIN], to, select: {}, map: {}, policy: { ...DEFAULT_POLICY, deleteGuard: { maxShrinkPercent: 100, holdSeconds: 0, registryEmpty: 'propagate' } } };
}

function project(endpoints: readonly Endpoint[], fields: readonly EndpointField[]): unknown[] {
  return [...endpoints]
    .sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)))
    .map((e) => [e.address, e.ports, ...fields.map((f) => e[f] ?? null)]);
}

export type { Sink };
