import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointProblem, refProblem } from '../../bridge/model/index.ts';
import { instanceSnapshot, parseProviderNode, providerSnapshots, type Converted, type ImportSettings } from './convert.ts';
import { planExport, type ExportSettings } from './encode.ts';
import { DUBBO_ANNOTATION } from './keys.ts';
import { javaUrlEncode } from './url.ts';

// Hostile native records (ZooKeeper → model) and hostile model snapshots (model → ZooKeeper):
// nothing throws, nothing a converter hands on is refused by the model, and bad input is
// quarantined with a reason.

const S: ImportSettings = { registry: 'zk', namespace: 'default', names: { 'com.acme.Mapped': 'mapped' }, protocols: ['dubbo', 'tri'], maxUrlLength: 2048 };
const E: ExportSettings = { bridgeId: 'b1', root: '/dubbo', servicesRoot: '/services', defaultProtocol: 'dubbo', release: '3.3.2', persistent: false };

const NASTY = ['', '/', 'team/a', ':', '::', '%', '%zz', '%2F', '\u0000', '\u0001x', '\u007f', '\ud800', 'a\udc00b', '.', '..', '__proto__', 'constructor', 'toString', 'é', '服务', '😀', 'a'.repeat(600), '&', '=', '?', '#', ',', ' ', '+', 'isthmus.x'];
const hostile = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.constantFrom('x'.repeat(513), `${'y'.repeat(300)}/${'z'.repeat(300)}`),
);
const plausible = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(\.[A-Za-z][A-Za-z0-9$_]{0,8}){0,3}$/);
const name = fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: hostile });
const RUNS = 5000;

function checkConverted(out: Converted): void {
  for (const snap of out.snapshots) {
    expect(refProblem(snap.ref)).toBeUndefined();
    for (const ep of snap.endpoints) expect(endpointProblem(ep)).toBeUndefined();
  }
  for (const q of out.quarantined) {
    expect(q.reason).not.toBe('');
    if (q.ref !== undefined) expect(refProblem(q.ref)).toBeUndefined();
  }
}

const providerCase = fc.record({
  protocol: fc.oneof(fc.constantFrom('dubbo', 'tri', 'http2', 'DUBBO'), hostile),
  host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('not-an-ip', '[::1]'), hostile),
  port: fc.oneof(fc.integer({ min: -5, max: 70_000 }).map(String), hostile),
  iface: name,
  dir: fc.option(name),
  version: fc.option(name),
  group: fc.option(name),
  weight: fc.option(fc.oneof(fc.integer().map(String), hostile)),
  params: fc.dictionary(hostile, hostile, { maxKeys: 4 }),
  raw: fc.boolean(),
});

type ProviderCase = typeof providerCase extends fc.Arbitrary<infer T> ? T : never;

function providerText(c: ProviderCase): { dir: string; child: string } {
  const params: Record<string, string> = { ...c.params, interface: c.iface, side: 'provider' };
  if (c.version !== null) params['version'] = c.version;
  if (c.group !== null) params['group'] = c.group;
  if (c.weight !== null) params['weight'] = c.weight;
  const query = Object.entries(params).map(([k, v]) => `${k}=${v}`).join('&');
  const text = `${c.protocol}://${c.host}:${c.port}/${c.iface}?${query}`;
  return { dir: c.raw ? (c.dir ?? c.iface) : javaUrlEncode(c.dir ?? c.iface), child: c.raw ? text : javaUrlEncode(text) };
}

const instanceDoc = fc.record({
  address: fc.oneof(fc.ipV4(), fc.ipV6(), hostile, fc.integer()),
  port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), hostile, fc.double()),
  payload: fc.oneof(
    fc.constant(null),
    fc.record({
      metadata: fc.oneof(
        fc.dictionary(hostile, hostile, { maxKeys: 4 }),
        fc.record({ 'dubbo.endpoints': fc.oneof(hostile, fc.json(), fc.array(fc.record({ port: fc.oneof(fc.integer({ min: 0, max: 70_000 }), hostile), protocol: fc.oneof(fc.constantFrom('dubbo', 'tri', 'smtp'), hostile) }), { maxLength: 3 }).map((a) => JSON.stringify(a))), weight: fc.oneof(hostile, fc.nat().map(String)) }),
      ),
    }),
  ),
});
const instanceData = fc.oneof(
  fc.constant(undefined),
  fc.json().map((j) => Buffer.from(j)),
  hostile.map((h) => Buffer.from(h)),
  instanceDoc.map((d) => Buffer.from(JSON.stringify(d))),
);

describe('dubbo converters under hostile input (fast-check)', () => {
  it(`never throw on ${RUNS} provider URLs; every ref and endpoint handed on is valid, the rest quarantined`, () => {
    fc.assert(
      fc.property(providerCase, (c) => {
        const { dir, child } = providerText(c);
        const one = parseProviderNode(dir, child, S);
        if (one.kind === 'ok') {
          expect(refProblem(one.value.ref)).toBeUndefined();
          expect(endpointProblem(one.value.endpoint)).toBeUndefined();
        }
        const out = providerSnapshots(dir, [child], S);
        checkConverted(out);
        if (one.kind === 'bad') expect(out.quarantined.map((q) => q.reason)).toEqual([one.reason]);
        if (one.kind === 'skip') expect(out).toEqual({ snapshots: [], quarantined: [] });
      }),
      { numRuns: RUNS },
    );
  });

  it('quarantines a provider whose group or interface makes a ref the model refuses', () => {
    const safe = fc.stringMatching(/^[a-z0-9.-]{0,12}$/);
    fc.assert(
      fc.property(safe, safe, (a, b) => {
        const child = javaUrlEncode(`dubbo://10.0.0.1:20880/com.acme.Greeter?interface=com.acme.Greeter&group=${a}/${b}`);
        const r = parseProviderNode(javaUrlEncode('com.acme.Greeter'), child, S);
        expect(r.kind === 'bad' && r.reason).toMatch(/contains "\/"/);
      }),
      { numRuns: 200 },
    );
    for (const iface of ['com.bad/Svc', 'com.bad\u0001Svc', `com.${'l'.repeat(520)}`]) {
      const child = javaUrlEncode(`dubbo://10.0.0.1:20880/${iface}?interface=${iface}`);
      const out = providerSnapshots(javaUrlEncode(iface), [child], S);
      expect(out.snapshots).toEqual([]);
      expect(out.quarantined[0]?.reason).toMatch(/^service name /);
    }
  });

  it(`never throw on ${RUNS} application-level instances; every ref and endpoint handed on is valid`, () => {
    fc.assert(
      fc.property(name, fc.array(fc.tuple(hostile, instanceData), { maxLength: 3 }), fc.array(name, { maxLength: 3 }), (app, nodes, ifaces) => {
        const out = instanceSnapshot(app, new Map(nodes), ifaces, S);
        checkConverted(out);
        const parsed = out.snapshots.flatMap((s) => s.endpoints).length + out.quarantined.length;
        expect(parsed).toBeLessThanOrEqual(new Map(nodes).size);
      }),
      { numRuns: RUNS },
    );
  });

  it('converts a known-good provider URL and instance as expected', () => {
    const iface = 'com.acme.Greeter';
    const child = javaUrlEncode(`dubbo://10.0.0.1:20880/${iface}?application=shop&interface=${iface}&side=provider&version=1.0.0&group=blue&weight=50`);
    const out = providerSnapshots(javaUrlEncode(iface), [child], S);
    expect(out.quarantined).toEqual([]);
    expect(out.snapshots.map((s) => [s.ref, s.endpoints.map((e) => [e.address, e.ports, e.weight, e.ready])])).toEqual([
      [{ namespace: 'default', name: `${iface}:1.0.0:blue` }, [['10.0.0.1', { dubbo: 20880 }, 50, true]]],
    ]);
    const doc = Buffer.from(JSON.stringify({ name: 'shop', address: '10.0.0.2', port: 20880, payload: { metadata: { 'dubbo.endpoints': '[{"port":20880,"protocol":"dubbo"}]' } } }));
    const inst = instanceSnapshot('shop', new Map([['10.0.0.2:20880', doc]]), [iface], S);
    expect(inst.snapshots[0]?.endpoints.map((e) => [e.address, e.ports])).toEqual([['10.0.0.2', { dubbo: 20880 }]]);
  });
});

/** ZooKeeper's own path rules (PathUtils.validatePath). */
function zkPathProblem(path: string): string | undefined {
  if (!path.startsWith('/') || path.endsWith('/')) return 'not absolute or ends with /';
  for (const seg of path.slice(1).split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return `bad segment ${JSON.stringify(seg)}`;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/.test(path) ? 'forbidden character' : undefined;
}

const hostileEndpoint: fc.Arbitrary<Endpoint> = fc.record({
  address: fc.oneof(fc.ipV4(), fc.ipV6(), hostile),
  ports: fc.dictionary(fc.oneof(fc.constantFrom('dubbo', 'tri', 'http'), hostile), fc.oneof(fc.integer({ min: 1, max: 65_535 }), fc.integer()), { maxKeys: 3 }),
  ready: fc.boolean(),
  serving: fc.boolean(),
  terminating: fc.boolean(),
  weight: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.double()),
  metadata: fc.constant({}),
  origin: fc.record({ registry: hostile, nativeId: hostile }),
});
const annotations = fc.record(
  Object.fromEntries(Object.values(DUBBO_ANNOTATION).map((k) => [k, fc.oneof(name, fc.array(name, { maxLength: 3 }).map((a) => a.join(',')))])),
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, string>>;

describe('dubbo planExport under hostile snapshots (fast-check)', () => {
  it('never throws and only ever plans valid znode paths for ready, valid endpoints', () => {
    fc.assert(
      fc.property(fc.record({ namespace: name, name }), annotations, fc.array(hostileEndpoint, { maxLength: 3 }), fc.boolean(), (ref, metadata, endpoints, persistent) => {
        const desired: ServiceSnapshot = { ref, ports: [], endpoints, metadata, origin: 'k8s' };
        const plan = planExport(desired, { ...E, persistent }, 'abc');
        const exportable = endpoints.filter((e) => endpointProblem(e) === undefined && e.ready && !e.terminating).length;
        for (const n of [...plan.nodes, ...(plan.metadata === undefined ? [] : [plan.metadata])]) expect(zkPathProblem(n.path), n.path).toBeUndefined();
        for (const p of plan.mappings) expect(zkPathProblem(p), p).toBeUndefined();
        if (exportable === 0) expect(plan.nodes).toEqual([]);
        const refused = endpoints.length - endpoints.filter((e) => endpointProblem(e) === undefined).length;
        expect(plan.problems.length).toBeGreaterThanOrEqual(refused);
      }),
      { numRuns: 3000 },
    );
  });
});
