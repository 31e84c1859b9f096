import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import type { ConsulClient, ReadOptions, TxnOp } from './client.ts';
import { toRegistration, type ExportSettings } from './encode.ts';
import type { NativeCheck, NativeNode, NativeService } from './native.ts';
import { isShardName, shardFilter, shardNode, shardOf, targetNode } from './shards.ts';
import { ConsulSink } from './sink.ts';

const S: ExportSettings = { bridgeId: 'b1', node: 'isthmus-b1', portName: 'http', zoneMetaKey: 'zone', drainingStatus: 'warning', extraTags: [], namespace: 'default' };
const OURS = { 'external-source': 'isthmus', 'isthmus-managed-by': 'b1' };

const ep = (name: string, i: number): Endpoint => ({
  address: `10.0.0.${i}`,
  ports: { http: 8080 },
  ...conditionsOf('ready'),
  weight: 100,
  metadata: {},
  origin: { registry: 'k8s', nativeId: `shop/${name}/${i}` },
});
const ref = (name: string): ServiceRef => ({ namespace: 'shop', name });
const snap = (name: string, n = 2): ServiceSnapshot => ({
  ref: ref(name),
  ports: [{ name: 'http', port: 8080 }],
  endpoints: Array.from({ length: n }, (_, i) => ep(name, i + 1)),
  metadata: {},
  origin: 'k8s',
});

interface Entry { node: string; service: NativeService; checks: NativeCheck[] }

/** The go-bexpr subset shardFilter writes: `<sel> == "x" or <sel> matches "re"`, on node names. */
function nodeFilter(filter: string | undefined): (node: string) => boolean {
  if (filter === undefined) return () => true;
  const tests = filter.split(' or ').map((clause) => {
    const m = /^(\S+) (==|matches) (".*")$/.exec(clause);
    if (m === null) throw new Error(`fake consul cannot evaluate ${clause}`);
    const value = JSON.parse(m[3] ?? '""') as string;
    return m[2] === '==' ? (n: string) => n === value : (n: string) => new RegExp(value).test(n);
  });
  return (node) => tests.some((t) => t(node));
}

/** A catalog of several nodes answering the reads the sink makes, and applying its txns. */
class FakeCatalog {
  nodes = new Map<string, NativeNode>();
  entries: Entry[] = [];
  txns: TxnOp[][] = [];

  client(): ConsulClient {
    const read = (path: string, o: ReadOptions = {}): Promise<{ body: unknown; index: number }> => {
      const keep = nodeFilter(o.params?.['filter']);
      let body: unknown;
      if (path === '/v1/catalog/nodes') body = [...this.nodes.values()].filter((n) => keep(n.Node));
      else if (path.startsWith('/v1/catalog/node-services/')) {
        const name = decodeURIComponent(path.slice('/v1/catalog/node-services/'.length));
        body = { Node: this.nodes.get(name) ?? null, Services: this.entries.filter((e) => e.node === name).map((e) => e.service) };
      } else {
        const name = decodeURIComponent(path.replace('/v1/health/service/', ''));
        body = this.entries.filter((e) => e.service.Service === name && keep(e.node)).map((e) => ({ Node: this.nodes.get(e.node), Service: e.service, Checks: e.checks }));
      }
      return Promise.resolve({ body, index: 1 });
    };
    const txn = (ops: readonly TxnOp[]): Promise<void> => {
      this.txns.push([...ops]);
      for (const op of ops) this.#apply(op);
      return Promise.resolve();
    };
    return { read, txn } as unknown as ConsulClient;
  }

  put(node: string, service: NativeService, meta: Record<string, string> = OURS): void {
    if (!this.nodes.has(node)) this.nodes.set(node, { Node: node, Address: '127.0.0.1', Meta: meta });
    this.entries.push({ node, service, checks: [] });
  }

  where(name: string): string[] {
    return this.entries.filter((e) => e.service.Service === name).map((e) => `${e.node}/${e.service.ID}`).sort();
  }

  #apply(o: Op): void {
    if (o.Node?.Verb === 'set') this.nodes.set(o.Node.Node.Node, o.Node.Node);
    if (o.Node?.Verb === 'delete') {
      this.nodes.delete(o.Node.Node.Node);
      this.entries = this.entries.filter((e) => e.node !== o.Node?.Node.Node);
    }
    const s = o.Service;
    if (s !== undefined) {
      if (!this.nodes.has(s.Node)) throw new Error(`txn: node ${s.Node} does not exist`);
      const prior = this.entries.find((e) => e.node === s.Node && e.service.ID === s.Service.ID);
      this.entries = this.entries.filter((e) => e !== prior);
      if (s.Verb === 'set') this.entries.push({ node: s.Node, service: s.Service, checks: prior?.checks ?? [] });
    }
    const c = o.Check?.Check;
    const e = c === undefined ? undefined : this.entries.find((x) => x.node === c.Node && x.service.ID === c.ServiceID);
    if (c !== undefined && e !== undefined) e.checks = [...e.checks.filter((x) => x.CheckID !== c.CheckID), c];
  }
}
interface Op {
  Node?: { Verb: string; Node: NativeNode };
  Service?: { Verb: string; Node: string; Service: NativeService };
  Check?: { Verb: string; Check: NativeCheck & { Node: string } };
}

const sink = (fake: FakeCatalog, nodeShards: number): ConsulSink =>
  new ConsulSink('consul', fake.client(), { settings: S, nodeAddress: '127.0.0.1', nodeShards, maxTxnOps: 128, waitSeconds: 1, maxBackoffMs: 100 });

/** A service name whose shard under `count` shards is not 0 (it moves off the single node). */
function movingName(count: number): string {
  for (let i = 0; ; i++) if (shardOf(`svc-${i}`, count) !== 0) return `svc-${i}`;
}

describe('shard placement', () => {
  it('is a stable hash of the service name, spread evenly, shard 0 on the configured node', () => {
    // Pinned: a change would move every export on upgrade.
    expect(['orders', 'billing', 'svc-0', 'svc-1', 'svc-2'].map((n) => shardOf(n, 16))).toEqual([11, 12, 11, 1, 13]);
    expect(shardOf('anything', 1)).toBe(0);
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const k = shardOf(`service-${i}`, 16);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(520);
    expect(Math.max(...counts)).toBeLessThan(730);
    expect([shardNode('isthmus-b1', 0), shardNode('isthmus-b1', 7)]).toEqual(['isthmus-b1', 'isthmus-b1_7']);
  });

  it('recognises our shard names for any count, and never another bridge\'s default node', () => {
    expect(['isthmus-b1', 'isthmus-b1_1', 'isthmus-b1_255'].every((n) => isShardName('isthmus-b1', n))).toBe(true);
    expect(['isthmus-b1-2', 'isthmus-b1_0', 'isthmus-b1_x', 'isthmus-b1_1_2', 'isthmus-b12'].some((n) => isShardName('isthmus-b1', n))).toBe(false);
    const keep = nodeFilter(shardFilter('isthmus-b1.x', 'Node'));
    expect(['isthmus-b1.x', 'isthmus-b1.x_3', 'isthmus-b1-x_3', 'isthmus-b1.x-3', 'isthmus-b1.x_03'].map(keep)).toEqual([true, true, false, false, false]);
    expect(shardFilter('isthmus-b1', 'Node.Node')).toBe('Node.Node == "isthmus-b1" or Node.Node matches "^isthmus-b1_[1-9][0-9]*$"');
  });
});

describe('ConsulSink across shard nodes', () => {
  it('moves a single-node record to its shard in one transaction, leaves foreign records, then writes nothing', async () => {
    const fake = new FakeCatalog();
    const name = movingName(16);
    await sink(fake, 1).apply(snap(name));
    const foreign = { ...toRegistration(ref(name), ep(name, 9), S).service, ID: 'theirs', Meta: { 'isthmus-managed-by': 'b2' } };
    fake.put('isthmus-b1', foreign);
    fake.put('vm-1', { ID: `${name}-native`, Service: name, Address: '10.9.0.1', Port: 80 }, {});
    const before = fake.where(name);
    expect(before.filter((w) => w.startsWith('isthmus-b1/isthmus-'))).toHaveLength(2);

    const upgraded = sink(fake, 16);
    const target = targetNode('isthmus-b1', name, 16);
    const state = await upgraded.read(ref(name));
    // The guard sees nothing disappear: the records are still there, on the old node.
    expect(state.observed?.endpoints).toHaveLength(2);
    const plan = upgraded.plan(state, snap(name));
    expect(plan.operations.map((o) => o.verb)).toEqual(['create', 'create', 'delete', 'delete']);
    expect(plan.operations[2]?.record).toMatch(/ on node isthmus-b1$/);
    expect(plan.txns).toHaveLength(1);
    fake.txns = [];
    await upgraded.execute(plan);
    expect(fake.txns).toHaveLength(1);
    const ids = before.filter((w) => w.startsWith('isthmus-b1/isthmus-')).map((w) => w.split('/')[1]);
    expect(fake.where(name)).toEqual([...ids.map((id) => `${target}/${id ?? ''}`), 'isthmus-b1/theirs', `vm-1/${name}-native`].sort());

    fake.txns = [];
    expect(upgraded.plan(await upgraded.read(ref(name)), snap(name)).operations).toEqual([]);
    const restarted = sink(fake, 16);
    await restarted.apply(snap(name));
    expect(fake.txns).toEqual([]);
  });

  it('a record present on both nodes (a move cut short) shows once and converges', async () => {
    const fake = new FakeCatalog();
    const name = movingName(16);
    await sink(fake, 16).apply(snap(name, 1));
    const r = toRegistration(ref(name), ep(name, 1), S);
    fake.put('isthmus-b1', { ...r.service, Tags: [...r.service.Tags] });
    const s = sink(fake, 16);
    const state = await s.read(ref(name));
    expect(state.observed?.endpoints).toHaveLength(1);
    expect(s.plan(state, snap(name, 1)).operations).toEqual([{ verb: 'delete', record: `service ${r.service.ID} on node isthmus-b1` }]);
    await s.apply(snap(name, 1));
    expect(fake.where(name)).toEqual([`${targetNode('isthmus-b1', name, 16)}/${r.service.ID}`]);
  });

  it('a changed shard count converges the same way, and ownedRefs sees every node', async () => {
    const fake = new FakeCatalog();
    const names = Array.from({ length: 24 }, (_, i) => `svc-${i}`);
    const s16 = sink(fake, 16);
    for (const n of names) await s16.apply(snap(n, 1));
    expect(new Set(fake.entries.map((e) => e.node)).size).toBeGreaterThan(8);
    const s4 = sink(fake, 4);
    expect((await s4.ownedRefs()).map((r) => r.name).sort()).toEqual([...names].sort());
    for (const n of names) await s4.apply(snap(n, 1));
    for (const n of names) expect(fake.where(n).map((w) => w.split('/')[0])).toEqual([targetNode('isthmus-b1', n, 4)]);
    fake.txns = [];
    for (const n of names) await sink(fake, 4).apply(snap(n, 1));
    expect(fake.txns).toEqual([]);
  });

  it('retire removes only our emptied shard nodes', async () => {
    const fake = new FakeCatalog();
    const s = sink(fake, 16);
    const name = movingName(16);
    await s.apply(snap(name, 1));
    const kept = targetNode('isthmus-b1', name, 16);
    fake.nodes.set('isthmus-b1', { Node: 'isthmus-b1', Address: '127.0.0.1', Meta: OURS });
    fake.nodes.set('isthmus-b1_99', { Node: 'isthmus-b1_99', Address: '127.0.0.1', Meta: OURS });
    fake.nodes.set('isthmus-b1_98', { Node: 'isthmus-b1_98', Address: '127.0.0.1', Meta: { 'isthmus-managed-by': 'b2' } });
    fake.nodes.set('isthmus-b1-2', { Node: 'isthmus-b1-2', Address: '127.0.0.1', Meta: { 'isthmus-managed-by': 'b1-2' } });
    await s.retire();
    expect([...fake.nodes.keys()].sort()).toEqual([kept, 'isthmus-b1-2', 'isthmus-b1_98'].sort());
    await s.remove(ref(name));
    await s.retire();
    expect([...fake.nodes.keys()].sort()).toEqual(['isthmus-b1-2', 'isthmus-b1_98']);
  });

  it('watches every shard with one query and reports a lost node', async () => {
    const fake = new FakeCatalog();
    const client = fake.client();
    const paths: string[] = [];
    const counting = { txn: (ops: readonly TxnOp[]) => client.txn(ops), read: (p: string, o?: ReadOptions) => { paths.push(p); return client.read(p, o); } } as unknown as ConsulClient;
    const s = new ConsulSink('consul', counting, { settings: S, nodeAddress: '127.0.0.1', nodeShards: 16, maxTxnOps: 128, waitSeconds: 1, maxBackoffMs: 100 });
    for (const n of ['svc-0', 'svc-1', 'svc-2']) await s.apply(snap(n, 1));
    let resets = 0;
    s.onReset(() => resets++);
    const ac = new AbortController();
    paths.length = 0;
    await s.start(ac.signal);
    await new Promise((r) => setTimeout(r, 50));
    // The fake answers at once, so the loop runs at its rate limit: the point is one path for all shards.
    expect([new Set(paths), resets]).toEqual([new Set(['/v1/catalog/nodes']), 0]);
    fake.nodes.delete(targetNode('isthmus-b1', 'svc-1', 16));
    await new Promise((r) => setTimeout(r, 400));
    ac.abort();
    expect(resets).toBe(1);
  });
});
