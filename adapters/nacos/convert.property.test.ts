// Hostile input, generated: whatever a Nacos server (or a careless VM app) sends, conversion
// never throws, never lets a ref or endpoint through that the model refuses, and accounts for
// every instance it does not convert. The sink's encoder gets hostile model endpoints too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { endpointKey, endpointProblem, refProblem } from '../../bridge/model/index.ts';
import { serviceProblem, toSnapshots, type ImportSettings } from './convert.ts';
import { fromInstance, toInstance, type ExportSettings } from './encode.ts';
import type { NacosInstance, NacosName, ServiceInfo } from './native.ts';

const RUNS = 5_000;

/** Names the way a registry full of history holds them: mostly plain, often not. */
const hostileName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom('', '/', 'a/b', '@@', 'g@@s', '@@x', 'x@@', '\u0000', 'tab\tname', 'del\u007f', 'ünïcødé-服务', '🚀', '..', 'providers:com.x.Demo::', 'consumers:com.x.Demo::', 'DEFAULT_GROUP', '__proto__', 'constructor') },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 700 }).map((n) => 'n'.repeat(n)) },
);

const ip = fc.oneof(
  { weight: 4, arbitrary: fc.ipV4() },
  { weight: 1, arbitrary: fc.ipV6() },
  { weight: 1, arbitrary: fc.oneof(hostileName, fc.constantFrom('256.1.1.1', '10.0.0', ' 10.0.0.1', 'localhost', '::ffff:10.0.0.1')) },
);

const port = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 65535 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 65536, 1e9, 80.5, Number.NaN, Number.POSITIVE_INFINITY) },
);

const nacosWeight = fc.option(fc.oneof(fc.double({ noDefaultInfinity: false }), fc.constantFrom(Number.NaN, -1, 0, 1, 1e308, 100.001)), { nil: undefined });

const metadata = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(hostileName, fc.oneof(hostileName, fc.string({ minLength: 500, maxLength: 600 })), { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 4 }), { minKeys: 60, maxKeys: 70 }) },
  { weight: 1, arbitrary: fc.constantFrom({ 'isthmus.managed-by': 'other' }, { ns: 'a/b' }, { ns: '' }, { ns: 'team-a' }, { 'management.port': '8081', secure: 'true' }, JSON.parse('{"__proto__":"x"}') as Record<string, string>) },
);

const instance: fc.Arbitrary<NacosInstance> = fc.record(
  {
    instanceId: hostileName,
    ip,
    port,
    weight: nacosWeight,
    healthy: fc.boolean(),
    enabled: fc.boolean(),
    ephemeral: fc.boolean(),
    clusterName: hostileName,
    metadata: fc.oneof(metadata, fc.constant(null)),
  },
  { requiredKeys: ['ip', 'port'] },
) as fc.Arbitrary<NacosInstance>;

const nacosName: fc.Arbitrary<NacosName> = fc.record({ group: fc.oneof(fc.constant('DEFAULT_GROUP'), hostileName), service: hostileName });
const info: fc.Arbitrary<ServiceInfo> = fc.record({ hosts: fc.oneof(fc.array(instance, { maxLength: 6 }), fc.constant(null)) }, { requiredKeys: [] });

const settings: fc.Arbitrary<ImportSettings> = fc.record({
  registry: fc.constant('nacos'),
  namespace: fc.oneof(fc.constant('default'), fc.constant('a/b'), hostileName),
  defaultGroup: fc.constant('DEFAULT_GROUP'),
  groups: fc.constant(['DEFAULT_GROUP']),
  services: fc.constant(['*']),
  clusters: fc.constant([]),
  portName: fc.constant('http'),
  zoneMetaKey: fc.constant('zone'),
  metadata: fc.constant({}),
}).chain((s) => fc.option(fc.constant('ns'), { nil: undefined }).map((k) => (k === undefined ? s : { ...s, namespaceMetaKey: k })));

describe('nacos → model under hostile input (property)', () => {
  it(`${RUNS} generated services: no throw, only valid refs and endpoints, every instance accounted for`, () => {
    const seen = { converted: 0, quarantined: 0, refusedByName: 0 };
    fc.assert(
      fc.property(nacosName, info, settings, (n, i, s) => {
        const { snapshots, quarantined } = toSnapshots(n, i, s);
        for (const snap of snapshots) {
          expect(refProblem(snap.ref)).toBeUndefined();
          for (const ep of snap.endpoints) expect(endpointProblem(ep)).toBeUndefined();
        }
        for (const q of quarantined) expect(q.reason).not.toBe('');
        // Every unmarked instance is either an endpoint (one per ip:port) or quarantined.
        const candidates = (i.hosts ?? []).filter((h) => h.metadata?.['isthmus.managed-by'] === undefined);
        const converted = snapshots.reduce((k, snap) => k + snap.endpoints.length, 0);
        expect(converted + quarantined.length).toBeLessThanOrEqual(candidates.length);
        seen.converted += converted;
        seen.quarantined += quarantined.length;
        if (serviceProblem(n, s) !== undefined) seen.refusedByName++;
        if (candidates.length > 0) expect(converted + quarantined.length).toBeGreaterThan(0);
        for (const snap of snapshots) expect(new Set(snap.endpoints.map(endpointKey)).size).toBe(snap.endpoints.length);
        // A service the source refuses by name yields nothing under the configured namespace.
        if (serviceProblem(n, s) !== undefined && s.namespaceMetaKey === undefined) expect(snapshots).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    // The generators must exercise both sides, or the property proves little.
    expect(seen.converted).toBeGreaterThan(RUNS / 10);
    expect(seen.quarantined).toBeGreaterThan(RUNS / 10);
    expect(seen.refusedByName).toBeGreaterThan(RUNS / 50);
  });

  it('a known-good Spring Cloud Alibaba instance converts as expected', () => {
    const s: ImportSettings = { registry: 'nacos', namespace: 'default', defaultGroup: 'DEFAULT_GROUP', groups: ['DEFAULT_GROUP'], services: ['*'], clusters: [], portName: 'http', zoneMetaKey: 'zone', metadata: {} };
    const good: NacosInstance = { ip: '10.0.0.7', port: 8080, weight: 1.5, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: { secure: 'false', zone: 'z1' } };
    const { snapshots, quarantined } = toSnapshots({ group: 'DEFAULT_GROUP', service: 'orders' }, { hosts: [good] }, s);
    expect(quarantined).toEqual([]);
    expect(snapshots[0]?.ref).toEqual({ namespace: 'default', name: 'orders' });
    expect(snapshots[0]?.endpoints).toEqual([{
      address: '10.0.0.7', ports: { http: 8080 }, protocol: 'http', ready: true, serving: true, terminating: false, weight: 150, zone: 'z1',
      metadata: { secure: 'false', zone: 'z1' }, origin: { registry: 'nacos', nativeId: '10.0.0.7#8080#DEFAULT#DEFAULT_GROUP@@orders' },
    }]);
  });

  it('refuses names with "/" and control characters, and instance namespaces with "/"', () => {
    const s: ImportSettings = { registry: 'nacos', namespace: 'default', namespaceMetaKey: 'ns', defaultGroup: 'DEFAULT_GROUP', groups: ['DEFAULT_GROUP'], services: ['*'], clusters: [], portName: 'http', zoneMetaKey: 'zone', metadata: {} };
    expect(serviceProblem({ group: 'DEFAULT_GROUP', service: 'a/b' }, s)).toMatch(/"\/"/);
    expect(serviceProblem({ group: 'g\u0001', service: 'ok' }, s)).toMatch(/control character/);
    expect(serviceProblem({ group: 'DEFAULT_GROUP', service: 'ok' }, s)).toBeUndefined();
    const hosts = [{ ip: '10.0.0.1', port: 80, metadata: { ns: 'x/y' } }, { ip: '10.0.0.2', port: 80 }];
    const { snapshots, quarantined } = toSnapshots({ group: 'DEFAULT_GROUP', service: 'ok' }, { hosts }, s);
    expect(snapshots.map((x) => x.endpoints.map((e) => e.address))).toEqual([['10.0.0.2']]);
    expect(quarantined).toMatchObject([{ nativeId: '10.0.0.1#80#DEFAULT#DEFAULT_GROUP@@ok', ref: { namespace: 'x/y', name: 'ok' } }]);
  });
});

const E: ExportSettings = { bridgeId: 'b1', portName: 'http', cluster: 'DEFAULT', namespace: 'default' };

const endpoint: fc.Arbitrary<Endpoint> = fc.record({
  address: ip,
  ports: fc.dictionary(hostileName, port, { maxKeys: 4 }),
  protocol: fc.option(hostileName, { nil: undefined }),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
  // `+ 0` folds -0 into 0: Nacos stores a number, and the sign of zero is no difference to carry.
  weight: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.double({ noDefaultInfinity: false }).map((w) => w + 0)),
  zone: fc.option(hostileName, { nil: undefined }),
  node: fc.option(hostileName, { nil: undefined }),
  // Oversized metadata is the source side's concern (quarantine); here it only costs time.
  metadata: fc.dictionary(hostileName, hostileName, { maxKeys: 5 }),
  origin: fc.record({ registry: hostileName, nativeId: hostileName }),
}, { requiredKeys: ['address', 'ports', 'ready', 'serving', 'terminating', 'weight', 'metadata', 'origin'] }) as fc.Arbitrary<Endpoint>;

describe('model → nacos under hostile input (property)', () => {
  it(`${RUNS} generated endpoints: encoding never throws and a valid endpoint reads back exactly`, () => {
    fc.assert(
      fc.property(endpoint, fc.record({ namespace: hostileName, name: hostileName }), (ep, ref) => {
        const i = toInstance(ref, ep, E, true);
        const back = fromInstance(i, E);
        expect(i.metadata?.['isthmus.managed-by']).toBe('b1');
        if (endpointProblem(ep) === undefined) expect(back).toEqual(ep);
      }),
      { numRuns: RUNS },
    );
  });
});
