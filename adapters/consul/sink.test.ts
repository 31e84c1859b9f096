import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import type { ConsulClient, TxnOp } from './client.ts';
import { toRegistration, type ExportSettings } from './encode.ts';
import type { HealthEntry, NativeCheck, NativeNode } from './native.ts';
import { ConsulSink } from './sink.ts';

const S: ExportSettings = { bridgeId: 'b1', node: 'isthmus-b1', portName: 'http', zoneMetaKey: 'zone', drainingStatus: 'warning', extraTags: [], namespace: 'default' };
const REF = { namespace: 'shop', name: 'orders' };
const NODE: NativeNode = { Node: 'isthmus-b1', Address: '127.0.0.1', Meta: { 'external-source': 'isthmus', 'isthmus-managed-by': 'b1' } };

const ep = (i: number, state: 'ready' | 'draining' | 'down' = 'ready', extra: Partial<Endpoint> = {}): Endpoint => ({
  address: `10.0.0.${i}`,
  ports: { http: 8080 },
  ...conditionsOf(state),
  weight: 100,
  metadata: { app: 'orders' },
  origin: { registry: 'k8s', nativeId: `shop/orders/${i}` },
  ...extra,
});
const snap = (endpoints: Endpoint[]): ServiceSnapshot => ({ ref: REF, ports: [{ name: 'http', port: 8080 }], endpoints, metadata: {}, origin: 'k8s' });

/**
 * A stand-in for the client: it holds health entries the way Consul answers
 * /v1/health/service/:name?filter=Node.Node==…, applies txns to them, and counts requests.
 */
class FakeConsul {
  entries: HealthEntry[] = [];
  node: NativeNode = NODE;
  reads = 0;
  txns: TxnOp[][] = [];

  client(): ConsulClient {
    return {
      read: (path: string) => {
        this.reads++;
        const name = decodeURIComponent(path.replace('/v1/health/service/', ''));
        return Promise.resolve({ body: this.entries.filter((e) => e.Service.Service === name).map((e) => ({ ...e, Node: this.node })), index: 1 });
      },
      txn: (ops: readonly TxnOp[]) => {
        this.txns.push([...ops]);
        for (const op of ops) this.#apply(op);
        return Promise.resolve();
      },
    } as unknown as ConsulClient;
  }

  #apply(op: TxnOp): void {
    const o = op as { Service?: { Verb: string; Service: HealthEntry['Service'] }; Check?: { Verb: string; Check: NativeCheck & { ServiceID: string } }; Node?: { Node: NativeNode } };
    if (o.Node !== undefined) this.node = o.Node.Node;
    if (o.Service?.Verb === 'set') {
      const prior = this.entries.find((e) => e.Service.ID === o.Service?.Service.ID);
      this.entries = this.entries.filter((e) => e !== prior);
      this.entries.push({ Node: this.node, Service: o.Service.Service, Checks: prior?.Checks ?? [] });
    }
    if (o.Service?.Verb === 'delete') this.entries = this.entries.filter((e) => e.Service.ID !== o.Service?.Service.ID);
    if (o.Check?.Verb === 'set') {
      const check = o.Check.Check;
      const e = this.entries.find((x) => x.Service.ID === check.ServiceID);
      if (e !== undefined) this.entries[this.entries.indexOf(e)] = { ...e, Checks: [...(e.Checks ?? []).filter((c) => c.CheckID !== check.CheckID), check] };
    }
  }
}

function sink(fake: FakeConsul, settings: ExportSettings = S, nodeAddress = '127.0.0.1'): ConsulSink {
  return new ConsulSink('consul', fake.client(), { settings, nodeAddress, nodeShards: 1, maxTxnOps: 128, waitSeconds: 1, maxBackoffMs: 100 });
}

describe('ConsulSink read / plan / execute', () => {
  it('writes not-ready endpoints with their health (critical, configured draining status) and round-trips them', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    const want = snap([ep(1), ep(2, 'draining'), ep(3, 'down')]);
    const plan = s.plan(await s.read(REF), want);
    expect(plan.operations.map((o) => o.verb)).toEqual(['create', 'create', 'create']);
    await s.execute(plan);
    const statuses = fake.entries.map((e) => [e.Service.Address, e.Checks?.[0]?.Status]);
    expect(statuses).toEqual([['10.0.0.1', 'passing'], ['10.0.0.2', 'warning'], ['10.0.0.3', 'critical']]);
    const state = await s.read(REF);
    expect([...(state.observed?.endpoints ?? [])].sort((a, b) => a.address.localeCompare(b.address))).toEqual(want.endpoints);
    expect(state.observed?.ports).toEqual([{ name: 'http', port: 8080 }]);
    expect(s.plan(state, want).operations).toEqual([]);
    // The draining status is configuration: critical when asked.
    const critical = sink(new FakeConsul(), { ...S, drainingStatus: 'critical' });
    const p = critical.plan(await critical.read(REF), snap([ep(2, 'draining')]));
    expect(JSON.stringify(p.txns)).toContain('"Status":"critical"');
  });

  it('a health flip is one in-place check update; one read per pass; a restarted sink plans nothing', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    await s.apply(snap([ep(1), ep(2)]));
    fake.reads = 0;
    fake.txns = [];
    const plan = s.plan(await s.read(REF), snap([ep(1), ep(2, 'down')]));
    expect(plan.operations).toEqual([{ verb: 'update', record: `check service:${toRegistration(REF, ep(2), S).service.ID} → critical` }]);
    await s.execute(plan);
    expect(fake.reads).toBe(1);
    expect(fake.txns).toHaveLength(1);
    expect(fake.txns[0]?.map((op) => Object.keys(op)[0])).toEqual(['Node', 'Check']);
    const restarted = sink(fake);
    expect(restarted.plan(await restarted.read(REF), snap([ep(1), ep(2, 'down')])).operations).toEqual([]);
  });

  it('a split that changes the weight rewrites the instance with Weights and Meta weight in step', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    await s.apply(snap([ep(1), ep(2)]));
    const split = snap([ep(1, 'ready', { weight: 1111 }), ep(2)]);
    const plan = s.plan(await s.read(REF), split);
    expect(plan.operations).toEqual([{ verb: 'update', record: `service ${toRegistration(REF, ep(1), S).service.ID}` }]);
    await s.execute(plan);
    const one = fake.entries.find((e) => e.Service.Address === '10.0.0.1')?.Service;
    expect([one?.Weights?.Passing, one?.Meta?.['weight'], one?.Meta?.['isthmus-weight']]).toEqual([11, '11', '1111']);
    const state = await s.read(REF);
    expect(state.observed?.endpoints.find((e) => e.address === '10.0.0.1')?.weight).toBe(1111);
    expect(s.plan(state, split).operations).toEqual([]);
  });

  it('plans the removal of everything owned for an undefined desired, and nothing once gone', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    await s.apply(snap([ep(1), ep(2)]));
    const foreign = { ...toRegistration(REF, ep(9), S).service, ID: 'other', Meta: { 'isthmus-managed-by': 'b2' } };
    fake.entries.push({ Node: NODE, Service: foreign, Checks: [] });
    const plan = s.plan(await s.read(REF), undefined);
    expect(plan.operations.map((o) => o.verb)).toEqual(['delete', 'delete']);
    await s.execute(plan);
    expect(fake.entries.map((e) => e.Service.ID)).toEqual(['other']);
    const state = await s.read(REF);
    expect(state.observed).toBeUndefined();
    expect(s.plan(state, undefined).operations).toEqual([]);
  });

  it('is pure: the same state and desired give the same plan, and the sink keeps no memory of it', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    const state = await s.read(REF);
    const want = snap([ep(1), ep(2, 'draining')]);
    expect(s.plan(state, want)).toEqual(s.plan(state, want));
    expect(fake.txns).toEqual([]);
  });

  it('refuses to overwrite an id another bridge holds on our node', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    const taken = { ...toRegistration(REF, ep(1), S).service, Meta: { 'isthmus-managed-by': 'b2' } };
    fake.entries.push({ Node: NODE, Service: taken, Checks: [] });
    const state = await s.read(REF);
    expect(() => s.plan(state, snap([ep(1)]))).toThrow(BridgeError);
    expect(() => s.plan(state, snap([ep(1)]))).toThrow(/held by another bridge/);
  });

  it('re-registers a drifted node once, even when no instance changed', async () => {
    const fake = new FakeConsul();
    await sink(fake).apply(snap([ep(1)]));
    const moved = sink(fake, S, '10.9.9.9');
    const plan = moved.plan(await moved.read(REF), snap([ep(1)]));
    expect(plan.operations).toEqual([{ verb: 'update', record: 'node isthmus-b1' }]);
    await moved.execute(plan);
    expect(moved.plan(await moved.read(REF), snap([ep(1)])).operations).toEqual([]);
  });

  it('converges when two endpoints share a service id (same address and primary port)', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    const want = snap([ep(1, 'ready', { ports: { http: 8080, admin: 9001 } }), ep(1, 'ready', { ports: { http: 8080, admin: 9000 } })]);
    await s.apply(want);
    expect(fake.entries).toHaveLength(1);
    expect(s.plan(await s.read(REF), want).operations).toEqual([]);
  });

  it('an extra port is an in-place update of the instance, then nothing', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    await s.apply(snap([ep(1)]));
    const wider = snap([ep(1, 'ready', { ports: { http: 8080, admin: 9000 } })]);
    const plan = s.plan(await s.read(REF), wider);
    // Same id (the primary port is unchanged): an update, not a delete and a create.
    expect(plan.operations.map((o) => o.verb)).toEqual(['update']);
    await s.execute(plan);
    const state = await s.read(REF);
    expect(state.observed?.ports).toEqual([{ name: 'admin', port: 9000 }, { name: 'http', port: 8080 }]);
    expect(s.plan(state, wider).operations).toEqual([]);
  });
});

describe('ConsulSink: two refs, one Consul service name', () => {
  const A = { namespace: 'team-a', name: 'dup' };
  const B = { namespace: 'team-b', name: 'dup' };
  const of = (ref: typeof A, i: number): ServiceSnapshot => ({ ...snap([ep(i, 'ready', { origin: { registry: 'k8s', nativeId: `${ref.namespace}/dup/${i}` } })]), ref });
  const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (err: unknown) => (err instanceof BridgeError ? err.code : String(err)));

  it('the later one is refused with ISTHMUS_NAME_COLLISION instead of merging into the first', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    await s.apply(of(A, 1));
    expect(await code(s.apply(of(B, 2)))).toBe('ISTHMUS_NAME_COLLISION');
    expect(fake.entries.map((e) => e.Service.Meta?.['isthmus-ns'])).toEqual(['team-a']);
    // A restarted sink knows from Consul alone who holds the name.
    const restarted = sink(fake);
    expect(await code(restarted.apply(of(B, 2)))).toBe('ISTHMUS_NAME_COLLISION');
    expect(await code(restarted.apply(of(A, 3)))).toBe('ok');
  });

  it('catches two refs that planned before either wrote', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    const planA = s.plan(await s.read(A), of(A, 1));
    const planB = s.plan(await s.read(B), of(B, 2));
    await s.execute(planA);
    await expect(s.execute(planB)).rejects.toThrow(/team-b\/dup and team-a\/dup both map to Consul service dup/);
    expect(fake.entries).toHaveLength(1);
  });

  it('hands the name over once the holder is gone', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    await s.apply(of(A, 1));
    await s.remove(A);
    await s.apply(of(B, 2));
    expect(fake.entries.map((e) => e.Service.Meta?.['isthmus-ns'])).toEqual(['team-b']);
  });

  it('records of both, left by an older version, resolve the same way in every replica', async () => {
    const fake = new FakeConsul();
    const s = sink(fake);
    for (const [ref, i] of [[B, 2], [A, 1]] as const) {
      const r = toRegistration(ref, of(ref, i).endpoints[0] ?? ep(i), S);
      fake.entries.push({ Node: NODE, Service: { ...r.service, Tags: [...r.service.Tags] }, Checks: [] });
    }
    expect(await code(s.apply(of(B, 2)))).toBe('ISTHMUS_NAME_COLLISION');
    expect(await code(s.apply(of(A, 1)))).toBe('ok');
  });
});
