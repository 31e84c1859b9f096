// Health is state (DESIGN §5), against the real Nacos, both directions:
// - source: a VM instance that reports itself unhealthy, one an operator disables in the
//   console, and a persistent one the server's own TCP check fails are seen downstream (an
//   Engine into a MemorySink) as not ready — never as gone, so the deletion guard never holds
//   — and come back. Latencies are printed as JSON lines.
// - sink: an exported endpoint turning down is healthy=false on the server, draining is
//   enabled=false, each one batch write, and the next pass writes nothing.
// - a Nacos service whose name the model cannot carry is quarantined; the others keep syncing.
import { setMaxListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Endpoint, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY, conditionsOf } from '../../bridge/model/index.ts';
import { applyDesired } from '../../bridge/ports/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { createNacosSink, createNacosSource, nacosConnection } from '../../adapters/nacos/index.ts';
import type { NacosInstance } from '../../adapters/nacos/native.ts';
import { NativeApp, adminList, adminSetEnabled, ctx, nacosOptions, nativeInstance, runId, sharedNacos, type NacosServer } from './nacos-support.ts';

const BRIDGE = 'health-bridge';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function ep(i: number, extra: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.81.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: { i: String(i) }, origin: { registry: 'vm', nativeId: `vm-${i}` }, ...extra };
}

/** Polls every 5 ms; returns the ms from `since` until `probe` holds (throws after `timeoutMs`). */
async function until(what: string, since: number, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  for (;;) {
    if (await probe()) return Date.now() - since;
    if (Date.now() - since > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(5);
  }
}

describe('nacos: health is state (real server)', () => {
  const run = runId();
  const abort = new AbortController();
  // Every connection, source and engine of the file listens on this one signal.
  setMaxListeners(64, abort.signal);
  const apps: NativeApp[] = [];
  const engines: Engine[] = [];
  const listeners: Server[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    abort.abort();
    for (const a of apps) a.close();
    for (const l of listeners) l.close();
  });

  async function app(server: NacosServer): Promise<NativeApp> {
    const a = new NativeApp(server);
    apps.push(a);
    await sleep(300);
    return a;
  }

  /** Nacos → Engine → MemorySink with the default policy (deletion guard on). */
  async function importer(server: NacosServer): Promise<{ target: MemoryRegistry; engine: Engine; source: ReturnType<typeof createNacosSource>; held: () => number }> {
    const source = createNacosSource(nacosOptions(server, { services: [`hs-${run}-*`] }), ctx('nacos-src', BRIDGE));
    await source.start(abort.signal);
    const target = new MemoryRegistry();
    const sink = new MemorySink('target', target, BRIDGE);
    const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [{ id: 'nacos->target', from: [source.id], to: 'target', select: {}, map: {}, policy: DEFAULT_POLICY }], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    let maxHeld = 0;
    const timer = setInterval(() => { maxHeld = Math.max(maxHeld, engine.summary().held.length); }, 5);
    abort.signal.addEventListener('abort', () => { clearInterval(timer); }, { once: true });
    return { target, engine, source, held: () => Math.max(maxHeld, engine.summary().held.length) };
  }

  function stateOf(target: MemoryRegistry, ref: ServiceRef, address: string): string {
    const e = [...(target.service(ref)?.endpoints.values() ?? [])].map((x) => x.endpoint).find((x) => x.address === address);
    if (e === undefined) return 'absent';
    return e.ready ? 'ready' : e.serving && e.terminating ? 'draining' : 'down';
  }

  it('source: a VM instance reporting itself unhealthy, or disabled by an operator, is not ready downstream within 1 s and back, never held', async () => {
    const server = await sharedNacos();
    const vm = await app(server);
    const ref = { namespace: 'default', name: `hs-${run}-vm` };
    const [a, b, c] = [ep(1), ep(2), ep(3)].map((e) => nativeInstance(e)) as [NacosInstance, NacosInstance, NacosInstance];
    for (const i of [a, b, c]) await vm.put(ref, i);
    const { target, held } = await importer(server);
    await until('imported', Date.now(), () => target.service(ref)?.endpoints.size === 3, 30_000);

    const figures: Record<string, number> = {};
    const step = async (label: string, write: () => Promise<void>, want: string): Promise<void> => {
      const t0 = Date.now();
      await write();
      figures[label] = await until(label, t0, () => stateOf(target, ref, b.ip) === want);
      // The others never move.
      expect([stateOf(target, ref, a.ip), stateOf(target, ref, c.ip)], label).toEqual(['ready', 'ready']);
    };
    await step('unhealthyMs', () => vm.put(ref, { ...b, healthy: false }), 'down');
    await step('healthyAgainMs', () => vm.put(ref, b), 'ready');
    await step('disabledMs', () => adminSetEnabled(server, ref, b, false), 'draining');
    await step('enabledAgainMs', () => adminSetEnabled(server, ref, b, true), 'ready');
    console.log(JSON.stringify({ figure: 'nacos-source-health', ...figures, heldPasses: held() }));
    expect(held()).toBe(0);
    for (const [k, v] of Object.entries(figures)) expect(v, k).toBeLessThan(1000);
  }, 90_000);

  it('source: a persistent instance failing the server\'s own TCP check turns down downstream and back', async () => {
    const server = await sharedNacos();
    const vm = await app(server);
    // Nacos 3.1.0 refuses PUT /v1|v2|v3 …/health/instance for persistent instances ("is
    // persistent service, can't register ephemeral instance", even with the cluster's checker
    // set to NONE), so the verdict comes from the server's TCP check of a port we open and close.
    const sockets = new Set<Socket>();
    const listen = async (port: number): Promise<Server> => {
      const l = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
      listeners.push(l);
      await new Promise<void>((resolve) => l.listen(port, '127.0.0.1', resolve));
      return l;
    };
    let listener = await listen(0);
    const port = (listener.address() as { port: number }).port;
    const ref = { namespace: 'default', name: `hs-${run}-persist` };
    const name = { group: 'DEFAULT_GROUP', service: ref.name };
    const instance: NacosInstance = { ip: '127.0.0.1', port, weight: 1, healthy: true, enabled: true, ephemeral: false, clusterName: 'DEFAULT', metadata: {} };
    await vm.client.registerPersistent(name, instance);
    const { target, held } = await importer(server);
    await until('imported healthy', Date.now(), () => stateOf(target, ref, '127.0.0.1') === 'ready', 60_000);
    const t0 = Date.now();
    await new Promise<void>((resolve) => { listener.close(() => { resolve(); }); for (const s of sockets) s.destroy(); });
    const downMs = await until('down', t0, () => stateOf(target, ref, '127.0.0.1') === 'down', 60_000);
    const t1 = Date.now();
    listener = await listen(port);
    const upMs = await until('up', t1, () => stateOf(target, ref, '127.0.0.1') === 'ready', 60_000);
    console.log(JSON.stringify({ figure: 'nacos-source-persistent-health', portClosedToDownMs: downMs, portOpenToReadyMs: upMs, heldPasses: held(), note: 'includes the server health-check interval' }));
    expect(held()).toBe(0);
    await vm.client.deregisterPersistent(name, instance);
  }, 150_000);

  it('sink: an exported endpoint turning down is healthy=false on the server within 1 s, draining is enabled=false; one write each, then none', async () => {
    const server = await sharedNacos();
    const reader = await app(server);
    const o = nacosOptions(server);
    const conn = nacosConnection(o, ctx('nacos', BRIDGE));
    const sink = createNacosSink(o, ctx('nacos', BRIDGE), conn);
    await sink.start(abort.signal);
    const ref = { namespace: 'default', name: `hs-${run}-export` };
    const name = { group: 'DEFAULT_GROUP', service: ref.name };
    const snap = (eps: Endpoint[]): ServiceSnapshot => ({ ref, ports: [{ name: 'http', port: 8080 }], endpoints: eps, metadata: {}, origin: 'vm' });
    const pushed: { at: number; hosts: NacosInstance[] }[] = [];
    reader.client.connection.onPush('NotifySubscriberRequest', (body) => {
      const info = body['serviceInfo'] as { name?: string; hosts?: NacosInstance[] } | undefined;
      if (info?.name?.endsWith(ref.name) === true) pushed.push({ at: Date.now(), hosts: info.hosts ?? [] });
    });
    await applyDesired(sink, snap([ep(1), ep(2)]));
    await reader.client.subscribe(name);
    const b = ep(2).address;
    const viaQuery = async (): Promise<NacosInstance | undefined> => ((await reader.client.query(name)).hosts ?? []).find((i) => i.ip === b);
    const figures: Record<string, number> = {};
    const flip = async (label: string, state: 'down' | 'draining' | 'ready', check: () => Promise<boolean>): Promise<void> => {
      const want = snap([ep(1), ep(2, conditionsOf(state))]);
      const writes = conn.writes;
      const t0 = Date.now();
      const plan = await applyDesired(sink, want);
      expect(plan.operations, label).toEqual([{ verb: 'update', record: `ephemeral set DEFAULT_GROUP@@${ref.name} (2 instances)` }]);
      expect(conn.writes - writes, label).toBe(1);
      figures[`${label}QueryMs`] = await until(label, t0, check, 5000);
      const push = pushed.find((p) => p.at >= t0 && (state === 'draining' ? !p.hosts.some((i) => i.ip === b) : p.hosts.find((i) => i.ip === b)?.healthy === (state === 'ready')));
      if (push !== undefined) figures[`${label}PushMs`] = push.at - t0;
      expect(sink.plan(await sink.read(ref), want).operations, label).toEqual([]);
    };
    await flip('down', 'down', async () => (await viaQuery())?.healthy === false);
    await flip('up', 'ready', async () => (await viaQuery())?.healthy === true);
    // Disabled instances are never in a query or a push: the admin list shows them.
    await flip('draining', 'draining', async () => (await adminList(server, ref)).find((i) => i.ip === b)?.enabled === false);
    await flip('ready', 'ready', async () => (await viaQuery())?.enabled === true);
    console.log(JSON.stringify({ figure: 'nacos-sink-health', ...figures }));
    expect(figures['downQueryMs']).toBeLessThan(1000);
    expect(figures['upQueryMs']).toBeLessThan(1000);
  }, 60_000);

  it('source: services named with "/" or a control character are quarantined, the others keep syncing', async () => {
    const server = await sharedNacos();
    const vm = await app(server);
    const fine = { namespace: 'default', name: `hs-${run}-fine` };
    const slash = { namespace: 'default', name: `hs-${run}-team/orders` };
    const bell = { namespace: 'default', name: `hs-${run}-bell\u0007` };
    // Nacos itself accepts both names (measured on 3.1.0; it refuses a `/` only in group names).
    await vm.put(slash, nativeInstance(ep(20)));
    await vm.put(bell, nativeInstance(ep(21)));
    await vm.put(fine, nativeInstance(ep(22)));
    const { target, engine, source } = await importer(server);
    await until('fine imported', Date.now(), () => target.service(fine)?.endpoints.size === 1, 30_000);
    await until('both quarantined', Date.now(), () => source.quarantined().length === 2, 30_000);
    expect(source.quarantined().map((q) => q.nativeId).sort()).toEqual([`DEFAULT_GROUP@@${bell.name}`, `DEFAULT_GROUP@@${slash.name}`].sort());
    expect(engine.summary().quarantined.filter((q) => q.registry === source.id)).toHaveLength(2);
    const names = target.services().map((s) => s.ref.name);
    expect(names).toContain(fine.name);
    expect(names.filter((n) => n === slash.name || n === bell.name)).toEqual([]);
    await vm.put(fine, nativeInstance(ep(23)));
    await until('fine still syncing', Date.now(), () => target.service(fine)?.endpoints.size === 2, 10_000);
  }, 60_000);
});
