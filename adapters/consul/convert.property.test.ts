import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endpointProblem, refProblem } from '../../bridge/model/index.ts';
import { serviceNameProblem, toSnapshots, type ImportSettings } from './convert.ts';
import type { HealthEntry } from './native.ts';

const S: ImportSettings = {
  registry: 'consul-dc1',
  namespace: 'default',
  namespaceMetaKey: 'k8s-ns',
  portName: 'http',
  zoneMetaKey: 'zone',
  warningAs: 'draining',
  importConsulK8s: false,
  services: ['*'],
  tags: [],
  meta: {},
};

// Hostile text: `/`, control characters, unicode, empty and oversized strings, prototype keys.
const hostile = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom('', '/', 'probe/slash', 'a\u0000b', 'tab\tname', '\u007f', 'ünï/cödé', '__proto__', 'constructor', 'x'.repeat(600), '..', ' ') },
  { weight: 1, arbitrary: fc.string({ minLength: 500, maxLength: 700 }) },
);
const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('', 'not-an-ip', 'host.example', '999.1.1.1', '::ffff:10.0.0.1'), hostile);
const port = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(0, -1, 65536, 1.5, Number.NaN), fc.constant(undefined));
const status = fc.constantFrom('passing', 'warning', 'critical', 'maintenance', '', 'bogus');
// Mostly small; now and then over the 64 keys Consul and the model allow.
const meta = fc.oneof({ weight: 9, arbitrary: fc.dictionary(hostile, hostile, { maxKeys: 5 }) }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 4 }), { minKeys: 60, maxKeys: 70 }) });

const entry: fc.Arbitrary<HealthEntry> = fc.record({
  Node: fc.record({ Node: hostile, Address: address, Meta: fc.option(meta, { nil: undefined }) }),
  Service: fc.record({
    ID: hostile,
    Service: hostile,
    Tags: fc.option(fc.array(hostile, { maxLength: 6 }), { nil: null }),
    Address: fc.option(address, { nil: undefined }),
    Port: port,
    Meta: fc.option(meta, { nil: null }),
    Weights: fc.option(fc.record({ Passing: fc.oneof(fc.integer({ min: -5, max: 500 }), fc.constant(Number.NaN)), Warning: fc.integer({ min: 0, max: 5 }) }), { nil: null }),
  }),
  Checks: fc.option(fc.array(fc.record({ CheckID: hostile, Status: status, ServiceID: hostile }), { maxLength: 3 }), { nil: null }),
}) as fc.Arbitrary<HealthEntry>;

// Not what Consul's API promises, but what a proxy or a newer version might hand us.
const malformed = fc.constantFrom<unknown>(null, {}, { Node: null, Service: null }, { Node: { Node: 'n' }, Service: { ID: 'x', Port: '80' } }, { Node: { Node: 'n', Address: '10.0.0.1' }, Service: { ID: 'x', Meta: { a: 1 } } }, { Node: { Node: 'n' }, Service: { ID: 'x' }, Checks: [null] });

describe('consul → model, property-based', () => {
  it('never throws; outputs pass the model checks; every input is converted, quarantined or skipped', () => {
    let seen = 0;
    let quarantinedTotal = 0;
    let convertedTotal = 0;
    fc.assert(
      fc.property(fc.oneof(hostile, fc.constantFrom('orders', 'billing-api')), fc.array(fc.oneof({ weight: 9, arbitrary: entry }, { weight: 1, arbitrary: malformed as fc.Arbitrary<HealthEntry> }), { minLength: 2, maxLength: 8 }), (name, entries) => {
        seen += entries.length;
        const { snapshots, quarantined } = toSnapshots(name, entries, S, '7');
        quarantinedTotal += quarantined.length;
        const converted = snapshots.reduce((n, s) => n + s.endpoints.length, 0);
        convertedTotal += converted;
        // Plain checks, not expect(): this body runs for thousands of records.
        if (converted + quarantined.length > entries.length) throw new Error('more outputs than inputs');
        for (const snap of snapshots) {
          const bad = refProblem(snap.ref) ?? snap.endpoints.map(endpointProblem).find((p) => p !== undefined);
          if (bad !== undefined) throw new Error(`output refused by the model: ${bad}`);
        }
        for (const q of quarantined) {
          if (q.reason === '') throw new Error('quarantined without a reason');
          if (q.ref !== undefined && refProblem(q.ref) !== undefined) throw new Error('quarantined with an invalid ref');
        }
        // A name the model refuses yields nothing at all, only quarantined instances.
        if (serviceNameProblem(name, S) !== undefined && snapshots.length > 0) throw new Error('a refused name produced a snapshot');
      }),
      { numRuns: 1100, seed: 20240607 },
    );
    expect(seen).toBeGreaterThanOrEqual(5000);
    expect(quarantinedTotal).toBeGreaterThan(0);
    expect(convertedTotal).toBeGreaterThan(0);
  });

  it('quarantines a slash in the name, a bad namespace from Meta, and a bad port, and converts a good record', () => {
    const good: HealthEntry = {
      Node: { Node: 'vm-1', Address: '10.0.0.9' },
      Service: { ID: 'orders-8080', Service: 'orders', Tags: ['v1'], Address: '10.0.0.1', Port: 8080, Meta: { zone: 'a' } },
      Checks: [{ CheckID: 'c', Status: 'passing' }],
    };
    expect(toSnapshots('probe/slash', [good], S)).toEqual({ snapshots: [], quarantined: [{ nativeId: 'vm-1/orders-8080', reason: expect.stringContaining('contains "/"') as string }] });
    const badNs = { ...good, Service: { ...good.Service, ID: 'ns', Meta: { 'k8s-ns': 'a/b' } } };
    const badPort = { ...good, Service: { ...good.Service, ID: 'p0', Port: 0 } };
    const { snapshots, quarantined } = toSnapshots('orders', [good, badNs, badPort], S);
    expect(quarantined.map((q) => [q.nativeId, q.ref])).toEqual([['vm-1/ns', undefined], ['vm-1/p0', { namespace: 'default', name: 'orders' }]]);
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]?.endpoints).toEqual([{
      address: '10.0.0.1',
      ports: { http: 8080 },
      ready: true,
      serving: true,
      terminating: false,
      weight: 100,
      zone: 'a',
      node: 'vm-1',
      metadata: { zone: 'a', 'tag:v1': 'true' },
      origin: { registry: 'consul-dc1', nativeId: 'vm-1/orders-8080' },
    }]);
  });
});
