// Hostile input, generated: whatever a Eureka server (or a careless VM app) sends, conversion
// never throws, never lets a ref or endpoint through that the model refuses, and accounts for
// every instance it does not convert. The sink's encoder gets hostile model endpoints too, and
// the plan of a state that already holds the desired instances is always empty.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { endpointKey, endpointProblem, refProblem } from '../../bridge/model/index.ts';
import { serviceNameOf, toSnapshots, wantsName, type ImportSettings } from './convert.ts';
import { fromInstance, toInstance, type ExportSettings } from './encode.ts';
import type { EurekaInstance } from './native.ts';
import { planEureka } from './plan.ts';

const RUNS = 3_000;

const hostileName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom('', '/', 'a/b', '@class', '\u0000', 'ünïcødé-服务', '__proto__', 'constructor', 'isthmus.managed-by', 'weight', 'zone') },
  { weight: 1, arbitrary: fc.integer({ min: 300, max: 400 }).map((n) => 'n'.repeat(n)) },
);

const ip = fc.oneof(
  { weight: 4, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: fc.oneof(hostileName, fc.constantFrom('256.1.1.1', '10.0.0', ' 10.0.0.1', 'localhost')) },
);

const portValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 65535 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 65536, 80.5, '8080', 'x') },
);
const port = fc.record({ $: portValue, '@enabled': fc.constantFrom('true', 'false', true, false) }, { requiredKeys: ['$'] });
const status = fc.constantFrom('UP', 'DOWN', 'STARTING', 'OUT_OF_SERVICE', 'UNKNOWN', 'up', 'bogus');

const instance = fc.record({
  instanceId: hostileName,
  app: hostileName,
  hostName: fc.oneof(ip, hostileName),
  ipAddr: ip,
  status,
  overriddenStatus: status,
  port,
  securePort: port,
  vipAddress: hostileName,
  metadata: fc.oneof(fc.dictionary(hostileName, hostileName, { maxKeys: 6 }), fc.constant(null), fc.constant({ '@class': 'java.util.Collections$EmptyMap' }), fc.constant({ weight: '-1', 'management.port': '99999' })),
}, { requiredKeys: [] }) as fc.Arbitrary<EurekaInstance>;

const settings: fc.Arbitrary<ImportSettings> = fc.record({
  registry: fc.constant('eureka'),
  namespace: fc.oneof(fc.constant('default'), fc.constant('a/b'), hostileName),
  services: fc.constant(['*']),
  nameFrom: fc.constantFrom('app' as const, 'vipAddress' as const),
  portName: fc.constant('http'),
  securePortName: fc.constant('https'),
  zoneMetaKey: fc.constant('zone'),
});

describe('eureka → model under hostile input (property)', () => {
  it(`${RUNS} generated applications: no throw, only valid refs and endpoints, every instance accounted for`, () => {
    const seen = { converted: 0, quarantined: 0 };
    fc.assert(
      fc.property(hostileName, fc.array(instance, { maxLength: 6 }), settings, (app, instances, s) => {
        const { snapshots, quarantined } = toSnapshots(app, instances, s);
        for (const snap of snapshots) {
          expect(refProblem(snap.ref)).toBeUndefined();
          for (const ep of snap.endpoints) expect(endpointProblem(ep)).toBeUndefined();
          expect(new Set(snap.endpoints.map(endpointKey)).size).toBe(snap.endpoints.length);
        }
        for (const q of quarantined) expect(q.reason).not.toBe('');
        // Unmarked instances whose name the glob selects (`*` does not match a line break).
        const candidates = instances.filter((i) => i.metadata?.['isthmus.managed-by'] === undefined && !/:isthmus-[0-9a-f]{12}$/.test(i.instanceId ?? '') && wantsName(serviceNameOf(app, i, s), s));
        const converted = snapshots.reduce((k, snap) => k + snap.endpoints.length, 0);
        expect(converted + quarantined.length).toBeLessThanOrEqual(candidates.length);
        if (candidates.length > 0) expect(converted + quarantined.length).toBeGreaterThan(0);
        seen.converted += converted;
        seen.quarantined += quarantined.length;
      }),
      { numRuns: RUNS },
    );
    expect(seen.converted).toBeGreaterThan(RUNS / 10);
    expect(seen.quarantined).toBeGreaterThan(RUNS / 10);
  });
});

const E: ExportSettings = { bridgeId: 'b1', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone', namespace: 'default', renewIntervalSeconds: 30, leaseDurationSeconds: 90 };

const endpoint: fc.Arbitrary<Endpoint> = fc.record({
  address: ip,
  ports: fc.dictionary(fc.oneof(hostileName, fc.constantFrom('http', 'https')), fc.integer({ min: 1, max: 65535 }), { maxKeys: 4 }),
  protocol: fc.option(hostileName, { nil: undefined }),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
  // `+ 0` folds -0 into 0: the weight is stored as text, and the sign of zero is no difference.
  weight: fc.integer({ min: 0, max: 10_000 }).map((w) => w + 0),
  zone: fc.option(hostileName, { nil: undefined }),
  node: fc.option(hostileName, { nil: undefined }),
  metadata: fc.dictionary(hostileName, hostileName, { maxKeys: 5 }),
  origin: fc.record({ registry: hostileName, nativeId: hostileName }),
}, { requiredKeys: ['address', 'ports', 'ready', 'serving', 'terminating', 'weight', 'metadata', 'origin'] }) as fc.Arbitrary<Endpoint>;

describe('model → eureka under hostile input (property)', () => {
  it(`${RUNS} generated endpoints: encoding never throws, a valid endpoint reads back exactly, and holding it plans nothing`, () => {
    fc.assert(
      fc.property(endpoint, fc.record({ namespace: hostileName, name: hostileName }), (ep, ref) => {
        const i = toInstance(ref, ep, E);
        expect(i.metadata?.['isthmus.managed-by']).toBe('b1');
        if (endpointProblem(ep) !== undefined) return;
        expect(fromInstance(i, E)).toEqual(ep);
        const desired = { ref, ports: [], endpoints: [ep], metadata: {}, origin: 'x' };
        expect(planEureka({ ref, app: ref.name.toUpperCase(), held: [{ ...i, lastDirtyTimestamp: '1' }], observed: undefined }, desired, E).writes).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
