import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listenLoopback, type LoopbackHttp } from '../shared/testing/loopback-http.ts';
import { ConsulClient } from './client.ts';
import type { HealthEntry, NativeCheck } from './native.ts';
import { ConsulSource } from './source.ts';

/**
 * A stand-in Consul for the index-driven mode. As in Consul (checked against 1.22), a check update
 * moves the index of /v1/health/state/any but not the one of /v1/catalog/services, and a service
 * edit the other way round. Blocking queries wait until their index moves; plain service reads
 * are counted by name.
 */
class FakeConsul {
  listIndex = 10;
  checkIndex = 10;
  readonly services = new Map<string, { tags: string[]; entries: HealthEntry[] }>();
  checks: NativeCheck[] = [];
  readonly reads: string[] = [];
  readonly paths: string[] = [];
  openBlocking = 0;
  maxOpenBlocking = 0;
  #held: { path: string; index: number; res: ServerResponse }[] = [];
  /** As in Consul: a node listing's blocking query returns when that node's instances change. */
  readonly #nodeIndex = new Map<string, number>();
  readonly #modifyIndex = new Map<string, number>();

  change(what: 'list' | 'checks', f: () => void): void {
    const before = this.#instances();
    f();
    // Raft indexes are global: every write is numbered above all before it, whatever it touched.
    const next = Math.max(this.listIndex, this.checkIndex) + 1;
    if (what === 'list') this.listIndex = next;
    else this.checkIndex = next;
    const after = this.#instances();
    const at = Math.max(this.listIndex, this.checkIndex);
    for (const [id, i] of after) {
      if (before.get(id)?.json === i.json) continue;
      this.#modifyIndex.set(id, at);
      this.#nodeIndex.set(i.node, at);
    }
    for (const [id, i] of before) if (!after.has(id)) this.#nodeIndex.set(i.node, at);
    for (const h of this.#held.splice(0)) {
      if (this.#index(h.path) > h.index) this.#answer(h.path, h.res);
      else this.#held.push(h);
    }
  }

  #instances(): Map<string, { node: string; json: string }> {
    const all = new Map<string, { node: string; json: string }>();
    for (const s of this.services.values()) for (const e of s.entries) all.set(e.Service.ID, { node: e.Node.Node, json: JSON.stringify(e.Service) });
    return all;
  }

  #index(path: string): number {
    if (path.startsWith('/v1/catalog/node-services/')) return this.#nodeIndex.get(decodeURIComponent(path.slice('/v1/catalog/node-services/'.length))) ?? 1;
    if (path === '/v1/catalog/services') return this.listIndex;
    if (path === '/v1/health/state/any') return this.checkIndex;
    return Math.max(this.listIndex, this.checkIndex);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.paths.push(url.pathname);
    const index = Number(url.searchParams.get('index') ?? '0');
    if (index > 0 && index >= this.#index(url.pathname)) {
      this.openBlocking++;
      this.maxOpenBlocking = Math.max(this.maxOpenBlocking, this.openBlocking);
      res.on('close', () => { this.openBlocking--; });
      this.#held.push({ path: url.pathname, index, res });
      return;
    }
    if (url.pathname.startsWith('/v1/health/service/')) this.reads.push(decodeURIComponent(url.pathname.slice('/v1/health/service/'.length)));
    this.#answer(url.pathname, res);
  }

  #answer(path: string, res: ServerResponse): void {
    let body: unknown = null;
    if (path === '/v1/catalog/services') body = Object.fromEntries([...this.services].map(([n, s]) => [n, s.tags]));
    else if (path === '/v1/health/state/any') body = this.checks;
    else if (path.startsWith('/v1/health/service/')) {
      const entries = this.services.get(decodeURIComponent(path.slice('/v1/health/service/'.length)))?.entries ?? [];
      body = entries.map((e) => ({ ...e, Service: { ...e.Service, ModifyIndex: this.#modifyIndex.get(e.Service.ID) ?? 1 } }));
    }
    else if (path === '/v1/catalog/nodes') {
      const nodes = new Set([...this.services.values()].flatMap((s) => s.entries.map((e) => e.Node.Node)));
      body = [...nodes].map((n) => ({ Node: n, Address: '10.9.0.1', ModifyIndex: 1 }));
    }
    else if (path.startsWith('/v1/catalog/node-services/')) {
      const node = decodeURIComponent(path.slice('/v1/catalog/node-services/'.length));
      const services = [...this.services.values()].flatMap((s) => s.entries).filter((e) => e.Node.Node === node);
      body = { Node: { Node: node }, Services: services.map((e) => ({ ...e.Service, ModifyIndex: this.#modifyIndex.get(e.Service.ID) ?? 1 })) };
    }
    res.writeHead(200, { 'x-consul-index': String(this.#index(path)) }).end(JSON.stringify(body));
  }
}

const entry = (name: string, node: string, address: string, status = 'passing'): HealthEntry => ({
  Node: { Node: node, Address: '10.9.0.1' },
  Service: { ID: `${name}-${address}`, Service: name, Port: 80, Address: address },
  Checks: [{ Node: node, CheckID: `c-${name}-${address}`, Status: status, ServiceName: name }],
});

describe('ConsulSource, index-driven mode', () => {
  const fake = new FakeConsul();
  let server: LoopbackHttp;
  let base = '';
  beforeAll(async () => {
    server = await listenLoopback((req, res) => { fake.handle(req, res); });
    base = server.base;
  });
  afterAll(() => server.close());

  it('holds two blocking queries for 40 services, reads only what changed, drops what is gone', async () => {
    for (let i = 0; i < 40; i++) fake.services.set(`svc-${i}`, { tags: [], entries: [entry(`svc-${i}`, `vm-${i % 4}`, `10.1.0.${i}`)] });
    fake.checks = [...fake.services.values()].flatMap((s) => s.entries.flatMap((e) => e.Checks ?? []));
    fake.checks.push({ Node: 'vm-1', CheckID: 'serfHealth', Status: 'passing', ServiceName: '' });
    const abort = new AbortController();
    const settings = { registry: 'c', namespace: 'default', portName: 'http', zoneMetaKey: 'zone', warningAs: 'draining' as const, importConsulK8s: false, services: ['*'], tags: [], meta: {} };
    const client = new ConsulClient({ address: base });
    const source = new ConsulSource('c', client, { settings, waitSeconds: 5, minWatchIntervalMs: 0, maxBackoffMs: 200, maxServiceWatches: 32, readConcurrency: 4, sweepMs: 60_000, minSweepGapMs: 300, nodeWatches: 0 });
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); });
    expect(source.mode()).toBe('index');
    expect(source.watchedServices()).toEqual([]);
    expect([...source.keys()]).toHaveLength(40);
    expect(fake.reads).toHaveLength(40);
    await vi.waitFor(() => { expect(fake.openBlocking).toBe(2); });
    expect(fake.maxOpenBlocking).toBe(2);

    // A check turns critical: only its service is read again.
    fake.reads.length = 0;
    fake.change('checks', () => {
      const s = fake.services.get('svc-7')!;
      s.entries = [entry('svc-7', 'vm-3', '10.1.0.7', 'critical')];
      fake.checks = fake.checks.map((c) => (c.ServiceName === 'svc-7' ? { ...c, Status: 'critical' } : c));
    });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'svc-7' })?.endpoints[0]?.ready).toBe(false); });
    expect([...new Set(fake.reads)]).toEqual(['svc-7']);

    // A node check moves: every service with an instance on that node.
    fake.reads.length = 0;
    fake.change('checks', () => { fake.checks = fake.checks.map((c) => (c.CheckID === 'serfHealth' ? { ...c, Status: 'critical' } : c)); });
    await vi.waitFor(() => { expect(new Set(fake.reads).size).toBe(10); });
    expect([...new Set(fake.reads)].every((n) => Number(n.slice(4)) % 4 === 1)).toBe(true);

    // A new service and a tag change are read; a deleted one is dropped without a read.
    fake.reads.length = 0;
    fake.change('list', () => {
      fake.services.set('svc-new', { tags: [], entries: [entry('svc-new', 'vm-0', '10.1.1.1')] });
      fake.services.get('svc-2')!.tags = ['blue'];
      fake.services.delete('svc-3');
    });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'svc-new' })?.endpoints).toHaveLength(1); });
    await vi.waitFor(() => { expect([...new Set(fake.reads)].sort()).toEqual(['svc-2', 'svc-new']); });
    expect(source.get({ namespace: 'default', name: 'svc-3' })).toBeUndefined();

    // An instance edited in place (new port, same tags, no check moved): the list says nothing
    // about which service. 40 services live on 4 nodes, so the sweep reads the node list and the
    // 4 listings, which name it, instead of every service. The next such move waits for minSweepGapMs.
    fake.reads.length = 0;
    fake.paths.length = 0;
    fake.change('list', () => { fake.services.get('svc-9')!.entries[0] = { ...entry('svc-9', 'vm-1', '10.1.0.9'), Service: { ID: 'svc-9-10.1.0.9', Service: 'svc-9', Port: 81, Address: '10.1.0.9' } }; });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'svc-9' })?.endpoints[0]?.ports).toEqual({ http: 81 }); });
    expect(fake.reads).toEqual(['svc-9']);
    expect(fake.paths.filter((p) => p.startsWith('/v1/catalog/node'))).toHaveLength(5);
    fake.reads.length = 0;
    const movedAt = Date.now();
    // An instance without checks joins a service: only a sweep can see it.
    fake.change('list', () => { fake.services.get('svc-11')!.entries.push({ ...entry('svc-11', 'vm-2', '10.1.2.11'), Checks: [] }); });
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.reads).toEqual([]);
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'svc-11' })?.endpoints).toHaveLength(2); }, { timeout: 3_000 });
    expect(Date.now() - movedAt).toBeGreaterThanOrEqual(250);
    expect(fake.reads).toEqual(['svc-11']);

    // Our own write (the sink shares the client) moved the index: that sweep waits for sweepMs.
    fake.reads.length = 0;
    await client.txn([]);
    fake.change('list', () => undefined);
    await new Promise((r) => setTimeout(r, 800));
    expect(fake.reads).toEqual([]);
    expect(fake.maxOpenBlocking).toBe(2);
    abort.abort();
  });

  it('watches the listings of the busiest nodes: a change without checks is read at once, alone', async () => {
    const f = new FakeConsul();
    const srv = await listenLoopback((req, res) => { f.handle(req, res); });
    // 60 services on 3 synthetic nodes, as a sync tool registers them: no checks at all.
    for (let i = 0; i < 60; i++) f.services.set(`n-${i}`, { tags: [], entries: [{ ...entry(`n-${i}`, `sync-${i % 3}`, `10.3.0.${i}`), Checks: [] }] });
    const abort = new AbortController();
    const settings = { registry: 'c', namespace: 'default', portName: 'http', zoneMetaKey: 'zone', warningAs: 'draining' as const, importConsulK8s: false, services: ['*'], tags: [], meta: {} };
    const source = new ConsulSource('c', new ConsulClient({ address: srv.base }), { settings, waitSeconds: 5, minWatchIntervalMs: 0, maxBackoffMs: 200, maxServiceWatches: 32, readConcurrency: 4, sweepMs: 60_000, minSweepGapMs: 200, nodeWatches: 3 });
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); });
    // Two global blocking queries and one per node (three nodes, three watches).
    await vi.waitFor(() => { expect(f.openBlocking).toBe(5); });
    f.reads.length = 0;
    // A rolled instance: the old one leaves and a new one joins in one move, on one node.
    f.change('list', () => { f.services.get('n-4')!.entries = [{ ...entry('n-4', 'sync-1', '10.3.1.4'), Checks: [] }]; });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'n-4' })?.endpoints[0]?.address).toBe('10.3.1.4'); });
    // Well before the 200 ms sweep gap could have passed, and without a sweep after it.
    await new Promise((r) => setTimeout(r, 400));
    expect([...new Set(f.reads)]).toEqual(['n-4']);
    // Removed: the instance ID missing from the listing names the service.
    f.reads.length = 0;
    f.change('list', () => { f.services.get('n-5')!.entries = []; });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'n-5' })?.endpoints ?? []).toHaveLength(0); });
    expect([...new Set(f.reads)]).toEqual(['n-5']);

    // A node beyond the watched ones: its first change takes a sweep, which finds where things
    // move, and that node is watched from then on (here in place of a quiet one). With 61
    // services on 4 nodes the sweep reads the node listings, not every service.
    f.change('list', () => { f.services.set('roll', { tags: [], entries: [{ ...entry('roll', 'roll-node', '10.4.0.1'), Checks: [] }] }); });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'roll' })?.endpoints).toHaveLength(1); });
    await vi.waitFor(() => { expect(f.openBlocking).toBe(5); });
    f.reads.length = 0;
    f.paths.length = 0;
    f.change('list', () => { f.services.get('roll')!.entries = [{ ...entry('roll', 'roll-node', '10.4.0.2'), Checks: [] }]; });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'roll' })?.endpoints[0]?.address).toBe('10.4.0.2'); });
    await vi.waitFor(() => { expect(f.paths).toContain('/v1/catalog/nodes'); });
    await new Promise((r) => setTimeout(r, 300));
    expect([...new Set(f.reads)]).toEqual(['roll']);
    f.reads.length = 0;
    await new Promise((r) => setTimeout(r, 300));
    f.change('list', () => { f.services.get('roll')!.entries = [{ ...entry('roll', 'roll-node', '10.4.0.3'), Checks: [] }]; });
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: 'roll' })?.endpoints[0]?.address).toBe('10.4.0.3'); });
    await new Promise((r) => setTimeout(r, 400));
    expect([...new Set(f.reads)]).toEqual(['roll']);
    abort.abort();
    await srv.close();
  });

  it('goes back to a blocking query per service once few are left', async () => {
    const small = new FakeConsul();
    const srv = await listenLoopback((req, res) => { small.handle(req, res); });
    const url = srv.base;
    for (let i = 0; i < 6; i++) small.services.set(`s-${i}`, { tags: [], entries: [entry(`s-${i}`, 'vm', `10.2.0.${i}`)] });
    const abort = new AbortController();
    const settings = { registry: 'c', namespace: 'default', portName: 'http', zoneMetaKey: 'zone', warningAs: 'draining' as const, importConsulK8s: false, services: ['*'], tags: [], meta: {} };
    const source = new ConsulSource('c', new ConsulClient({ address: url }), { settings, waitSeconds: 5, minWatchIntervalMs: 0, maxBackoffMs: 200, maxServiceWatches: 4 });
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); });
    expect(source.mode()).toBe('index');
    small.change('list', () => { for (let i = 0; i < 4; i++) small.services.delete(`s-${i}`); });
    await vi.waitFor(() => { expect(source.watchedServices()).toEqual(['s-4', 's-5']); });
    expect(source.mode()).toBe('watch');
    expect([...source.keys()].map((r) => r.name).sort()).toEqual(['s-4', 's-5']);
    abort.abort();
    await srv.close();
  });
});
