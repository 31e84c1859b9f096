// The sink's read → plan → execute against the real ZooKeeper, driven by the Engine: a change
// to the Dubbo annotations alone is written, a not-ready endpoint is withdrawn and comes back,
// and the source quarantines what the model cannot name while everything else keeps syncing.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Endpoint, Route, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY, conditionsOf } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import { DubboSink, createDubbo, javaUrlDecode, javaUrlEncode, type ZkClient } from '../../adapters/dubbo/index.ts';
import { ZkAdmin, dubboOptions, nativeProviderUrl, runId, sharedZooKeeper } from './dubbo-support.ts';

const WAIT = { timeout: 30_000, interval: 20 };

function route(id: string, from: string, to: string): Route {
  return { id, from: [from], to, select: {}, map: {}, policy: DEFAULT_POLICY };
}

function pod(i: number, extra: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.81.0.${i}`, ports: { dubbo: 20880 }, ...conditionsOf('ready'), weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `pod-${i}` }, ...extra };
}

describe('dubbo sink plan on the real ZooKeeper', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** A Kubernetes-like memory source exported into ZooKeeper by an Engine. */
  async function exportRig(name: string): Promise<{ run: string; roots: { root: string; servicesRoot: string }; admin: ZkAdmin; k8s: MemoryRegistry; k8sSource: MemorySource; sink: DubboSink; engine: Engine; client: ZkClient; writes: () => number }> {
    const zk = await sharedZooKeeper();
    const run = runId();
    const roots = { root: `/${name}-${run}`, servicesRoot: `/${name}s-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(roots.root); await admin.removeTree(roots.servicesRoot); admin.close(); });
    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const k8s = new MemoryRegistry();
    const k8sSource = new MemorySource('k8s', k8s);
    await k8sSource.start(abort.signal);
    const { client, sink } = createDubbo(dubboOptions(zk, roots), { registryId: 'zk', bridgeId: name, logger: SILENT_LOGGER });
    cleanups.push(() => { client.close(); });
    await sink.start(abort.signal);
    const engine = new Engine({ bridgeId: name, sources: [k8sSource], sinks: [sink], routes: [route('k8s->zk', 'k8s', 'zk')], quietMs: 5, maxDelayMs: 20 });
    cleanups.push(() => engine.stop());
    engine.start();
    return { run, roots, admin, k8s, k8sSource, sink, engine, client, writes: () => client.writes };
  }

  it('writes an interface-annotation change with unchanged endpoints, and the next pass plans nothing', async () => {
    const { run, roots, admin, k8s, k8sSource, sink, engine, client, writes } = await exportRig('an');
    const ref: ServiceRef = { namespace: 'shop', name: 'greeter' };
    const app = `an-app-${run}`;
    const [a, b] = [`com.example.an${run}.Greeter`, `com.example.an${run}.Admin`];
    const providers = (iface: string): Promise<string[]> => admin.children(`${roots.root}/${javaUrlEncode(iface)}/providers`);
    k8s.upsertService(ref, [{ name: 'dubbo', port: 20880 }], { 'isthmus.dev/dubbo-interfaces': a, 'isthmus.dev/dubbo-application': app });
    k8s.putEndpoint(ref, pod(1));
    k8s.putEndpoint(ref, pod(2));
    await vi.waitFor(async () => { expect(await providers(a)).toHaveLength(2); }, WAIT);
    await engine.whenIdle();
    const revisionsBefore = await admin.children(`${roots.root}/metadata/${app}`);

    // Only the annotation changes: the engine no longer diffs endpoints, the sink's plan sees it.
    k8s.upsertService(ref, [{ name: 'dubbo', port: 20880 }], { 'isthmus.dev/dubbo-interfaces': `${a},${b}`, 'isthmus.dev/dubbo-application': app });
    await vi.waitFor(async () => {
      expect(await providers(b)).toHaveLength(2);
      expect((await admin.data(`${roots.root}/mapping/${b}`))?.split(',')).toContain(app);
    }, WAIT);
    await engine.whenIdle();
    expect(await providers(a)).toHaveLength(2);
    const revisions = await admin.children(`${roots.root}/metadata/${app}`);
    expect(revisions).toHaveLength(revisionsBefore.length + 1);
    const newRevision = revisions.find((r) => !revisionsBefore.includes(r));
    for (const id of await admin.children(`${roots.servicesRoot}/${app}`)) {
      expect(await admin.data(`${roots.servicesRoot}/${app}/${id}`)).toContain(`"dubbo.metadata.revision":"${newRevision ?? '?'}"`);
    }
    const desired = k8sSource.get(ref);
    expect(sink.plan(await sink.read(ref), desired).operations).toEqual([]);
    const before = writes();
    await engine.resync();
    await engine.whenIdle();
    expect(writes() - before).toBe(0);
    // A restarted sink (new object, same session: its ephemeral nodes are still current) plans nothing either.
    const restarted = new DubboSink('zk', client, { settings: { bridgeId: 'an', ...roots, defaultProtocol: 'dubbo', release: '3.3.2', persistent: false }, logger: SILENT_LOGGER });
    expect(restarted.plan(await restarted.read(ref), desired).operations).toEqual([]);
  });

  it('withdraws an exported endpoint from ZooKeeper within 1 s of turning not ready, and writes it back when ready', async () => {
    const { run, roots, admin, k8s, sink, engine } = await exportRig('hs');
    const ref: ServiceRef = { namespace: 'shop', name: 'health' };
    const iface = `com.example.hs${run}.Health`;
    const app = `hs-app-${run}`;
    k8s.upsertService(ref, [{ name: 'dubbo', port: 20880 }], { 'isthmus.dev/dubbo-interfaces': iface, 'isthmus.dev/dubbo-application': app });
    for (const i of [1, 2, 3]) k8s.putEndpoint(ref, pod(i));
    const dir = `${roots.root}/${javaUrlEncode(iface)}/providers`;
    const hosts = async (): Promise<string[]> => (await admin.children(dir)).map((c) => /\/\/([^:]+):/.exec(javaUrlDecode(c) ?? '')?.[1] ?? '?').sort();
    await vi.waitFor(async () => { expect(await hosts()).toEqual(['10.81.0.1', '10.81.0.2', '10.81.0.3']); }, WAIT);
    await engine.whenIdle();

    const timings: Record<string, number> = {};
    for (const [state, want] of [['down', ['10.81.0.1', '10.81.0.3']], ['ready', ['10.81.0.1', '10.81.0.2', '10.81.0.3']], ['draining', ['10.81.0.1', '10.81.0.3']], ['ready', ['10.81.0.1', '10.81.0.2', '10.81.0.3']]] as const) {
      const start = performance.now();
      k8s.putEndpoint(ref, pod(2, conditionsOf(state)));
      await vi.waitFor(async () => {
        expect(await hosts()).toEqual(want);
        expect((await admin.children(`${roots.servicesRoot}/${app}`)).sort()).toEqual(want.map((h) => `${h}:20880`));
      }, WAIT);
      const ms = Math.round(performance.now() - start);
      timings[timings[state] === undefined ? state : `${state}Again`] = ms;
      expect(ms, state).toBeLessThan(1000);
      await engine.whenIdle();
      // What ZooKeeper holds is what `observed` says: the withdrawn endpoint is not in it.
      expect((await sink.read(ref)).observed?.endpoints.map((e) => e.address).sort()).toEqual(want);
    }
    console.log(JSON.stringify({ figure: 'dubbo.health.withdrawMs', ...timings }));
  });

  it('quarantines providers the model cannot name (group=team/a, an interface decoding to "/") while the others keep syncing', async () => {
    const zk = await sharedZooKeeper();
    const run = runId();
    const roots = { root: `/qt-${run}`, servicesRoot: `/qts-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(roots.root); await admin.removeTree(roots.servicesRoot); admin.close(); });
    const good = `com.example.qt${run}.Orders`;
    const slashed = `com.example.qt${run}/Bad`;
    const long = `com.example.qt${run}.${'L'.repeat(520)}`;
    await admin.putProvider(roots.root, good, nativeProviderUrl(good, '10.82.0.1', 20880));
    await admin.putProvider(roots.root, good, nativeProviderUrl(good, '10.82.0.2', 20880, { group: 'team/a' }));
    await admin.putProvider(roots.root, slashed, nativeProviderUrl(slashed, '10.82.0.3', 20880));
    await admin.putProvider(roots.root, long, nativeProviderUrl(long, '10.82.0.4', 20880));
    // An application-level directory whose name is longer than any service name the model carries.
    await admin.create(`${roots.servicesRoot}/${'a'.repeat(600)}/10.82.0.5:20880`, JSON.stringify({ name: 'x', address: '10.82.0.5', port: 20880, payload: { metadata: {} } }));

    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const { client, source } = createDubbo(dubboOptions(zk, roots), { registryId: 'zk', bridgeId: 'qt', logger: SILENT_LOGGER });
    cleanups.push(() => { client.close(); });
    await source.start(abort.signal);
    const downstream = new MemoryRegistry();
    const engine = new Engine({ bridgeId: 'qt', sources: [source], sinks: [new MemorySink('target', downstream, 'qt')], routes: [route('zk->target', 'zk', 'target')], quietMs: 5, maxDelayMs: 20 });
    cleanups.push(() => engine.stop());
    engine.start();

    const goodRef = { namespace: 'default', name: good };
    await vi.waitFor(() => { expect([...(downstream.service(goodRef)?.endpoints.values() ?? [])].map((e) => e.endpoint.address)).toEqual(['10.82.0.1']); }, WAIT);
    await vi.waitFor(() => { expect(source.quarantined()).toHaveLength(4); }, WAIT);
    const reasons = source.quarantined().map((q) => q.reason);
    expect(reasons.filter((r) => r.includes('contains "/"'))).toHaveLength(2);
    expect(reasons.filter((r) => /is \d+ characters \(limit 512\)/.test(r))).toHaveLength(2);
    expect(source.quarantined().every((q) => q.ref === undefined)).toBe(true);
    expect([...source.keys()].map((r) => r.name)).toEqual([good]);

    // Everything else keeps flowing.
    await admin.putProvider(roots.root, good, nativeProviderUrl(good, '10.82.0.6', 20880));
    await vi.waitFor(() => { expect(downstream.service(goodRef)?.endpoints.size).toBe(2); }, WAIT);
    await engine.whenIdle();
    expect(engine.summary().errors).toEqual([]);
    expect(source.health().reachable).toBe(true);
  });
});
