import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import type { Endpoint, ServiceRef } from '../model/index.ts';
import { endpointKey, endpointProblem, refKey, refProblem } from '../model/index.ts';
import { Engine } from './engine.ts';
import { route } from './testing/fixture.ts';

/** Names as registries hand them over: mostly plain, often odd, sometimes hostile. */
const name = fc.oneof(
  fc.constantFrom('orders', 'com.shop.OrderService', 'providers:com.foo.Bar:1.0.0:', 'DEFAULT_GROUP@@orders', 'orders/v2', 'team/a', '', ' ', '..', 'ä漢字', 'x'.repeat(600), 'a\u0000b', 'tab\there'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('not-an-ip', '', '10.0.0.256', 'localhost', '::ffff:10.0.0.1'), fc.string({ maxLength: 20 }));
const port = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(0, -1, 65536, 70000, 1.5, Number.NaN));
const metadata = fc.dictionary(fc.string({ maxLength: 140 }), fc.string({ maxLength: 600 }), { maxKeys: 70 });
const record = fc.record({
  ref: fc.record({ namespace: fc.oneof(fc.constant('shop'), name), name }),
  address,
  port,
  portName: fc.oneof(fc.constant('http'), fc.string({ maxLength: 20 })),
  weight: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(-1, 10_001, Number.NaN, Number.POSITIVE_INFINITY)),
  ready: fc.boolean(),
  metadata,
});

interface Generated {
  readonly ref: ServiceRef;
  readonly address: string;
  readonly port: number;
  readonly portName: string;
  readonly weight: number;
  readonly ready: boolean;
  readonly metadata: Record<string, string>;
}

function toEndpoint(r: Generated): Endpoint {
  return {
    address: r.address,
    ports: { [r.portName]: r.port },
    ready: r.ready,
    serving: r.ready,
    terminating: false,
    weight: r.weight,
    metadata: r.metadata,
    origin: { registry: 'vm', nativeId: `${r.address}:${r.port}` },
  };
}

describe('the engine with hostile records', () => {
  it('never throws: bad names and endpoints are quarantined, everything else is synced exactly (5,000 records)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1000, maxLength: 1000 }), async (records) => {
        const vm = new MemoryRegistry();
        for (const r of records) vm.putEndpoint(r.ref, toEndpoint(r));
        const target = new MemoryRegistry();
        const abort = new AbortController();
        const source = new MemorySource('vm', vm);
        await source.start(abort.signal);
        const sink = new MemorySink('k8s', target, 'b');
        const engine = new Engine({ bridgeId: 'b', sources: [source], sinks: [sink], routes: [route('vm', 'k8s')], quietMs: 1, maxDelayMs: 5 });
        engine.start();
        await engine.whenIdle();
        const status = engine.summary();
        expect(status.errors).toEqual([]);
        const quarantinedRefs = new Set(status.quarantined.filter((q) => q.ref === undefined).map((q) => q.nativeId));
        const quarantinedEndpoints = new Set(status.quarantined.filter((q) => q.ref !== undefined).map((q) => `${refKey(q.ref as ServiceRef)}|${q.nativeId}`));
        for (const svc of vm.services()) {
          const key = refKey(svc.ref);
          const synced = [...(target.service(svc.ref)?.endpoints.values() ?? [])].map((e) => endpointKey(e.endpoint)).sort();
          if (refProblem(svc.ref) !== undefined) {
            expect(quarantinedRefs.has(key), key).toBe(true);
            expect(synced).toEqual([]);
            continue;
          }
          const all = [...svc.endpoints.values()].map((e) => e.endpoint);
          expect(synced, key).toEqual(all.filter((e) => endpointProblem(e) === undefined).map(endpointKey).sort());
          for (const bad of all.filter((e) => endpointProblem(e) !== undefined)) expect(quarantinedEndpoints.has(`${key}|${bad.origin.nativeId}`), key).toBe(true);
        }
        await engine.stop();
        abort.abort();
      }),
      { numRuns: 5 },
    );
  }, 120_000);
});
