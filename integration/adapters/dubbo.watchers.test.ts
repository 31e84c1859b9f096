// Watches on quiet paths across many reconnects and resyncs. node-zookeeper-client keeps every
// distinct watcher function registered on a path until that path's watch fires; a bridge that
// handed it a new closure on every relist (each reconnect) and every resync (the sink re-reads
// everything every five minutes by default) piled them up on paths that never change, which
// Node reports as a MaxListenersExceededWarning once a path holds 11. Twelve reconnects, each
// followed by a resync, must leave no path with more than one of ours.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import { createDubbo, javaUrlEncode } from '../../adapters/dubbo/index.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { ZkAdmin, dubboOptions, nativeProviderUrl, runId, sharedZooKeeper } from './dubbo-support.ts';

const WAIT = { timeout: 30_000, interval: 20 };
const RECONNECTS = 12;

function route(id: string, from: string, to: string): Route {
  return { id, from: [from], to, select: {}, map: {}, policy: DEFAULT_POLICY };
}

function podEndpoint(i: number): Endpoint {
  return { address: `10.47.0.${i}`, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `pod-${i}` } };
}

describe('dubbo watches across reconnects and resyncs', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it(`${RECONNECTS} reconnects and resyncs leave one watcher per quiet path, and every watch still works`, async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message); };
    process.on('warning', onWarning);
    cleanups.push(() => { process.off('warning', onWarning); });

    const zk = await sharedZooKeeper();
    const run = runId();
    const root = `/wr-${run}`;
    const servicesRoot = `/wrs-${run}`;
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(root); await admin.removeTree(servicesRoot); admin.close(); });
    const vmIface = `com.example.wr${run}.Inventory`;
    await admin.putProvider(root, vmIface, nativeProviderUrl(vmIface, '10.57.0.1', 20880));

    const podIface = `com.example.wr${run}.Greeter`;
    const k8s = new MemoryRegistry();
    const podRef = { namespace: 'shop', name: 'greeter' };
    k8s.upsertService(podRef, [{ name: 'dubbo', port: 20880 }], { 'isthmus.dev/dubbo-interfaces': podIface, 'isthmus.dev/dubbo-application': `greeter-${run}` });
    k8s.putEndpoint(podRef, podEndpoint(1));

    const proxy = await new TcpProxy(`tcp://${zk}`).start();
    cleanups.push(() => proxy.close());
    const { client, source, sink } = createDubbo(dubboOptions(`127.0.0.1:${proxy.port}`, { root, servicesRoot, sessionTimeoutMs: 20_000 }), { registryId: 'zk', bridgeId: 'wr', logger: SILENT_LOGGER });
    cleanups.push(() => { client.close(); });
    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    let sessions = 0;
    cleanups.push(client.onSession(() => { sessions++; }));
    const k8sSource = new MemorySource('k8s', k8s);
    await k8sSource.start(abort.signal);
    await source.start(abort.signal);
    await sink.start(abort.signal);
    const downstream = new MemoryRegistry();
    const engine = new Engine({
      bridgeId: 'wr',
      sources: [k8sSource, source],
      sinks: [sink, new MemorySink('target', downstream, 'wr')],
      routes: [route('k8s->zk', 'k8s', 'zk'), route('zk->target', 'zk', 'target')],
      quietMs: 5,
      maxDelayMs: 50,
    });
    cleanups.push(() => engine.stop());
    engine.start();

    const vmRef = { namespace: 'default', name: vmIface };
    const podProviders = `${root}/${javaUrlEncode(podIface)}/providers`;
    await vi.waitFor(async () => {
      expect(downstream.service(vmRef)?.endpoints.size).toBe(1);
      expect(await admin.children(podProviders)).toHaveLength(1);
    }, WAIT);
    const firstSession = client.sessionId;

    for (let i = 1; i <= RECONNECTS; i++) {
      const before = sessions;
      proxy.drop();
      // The same session comes back: the client re-arms its watches, the source relists.
      await vi.waitFor(() => {
        expect(sessions).toBeGreaterThan(before);
        expect(source.health().reachable).toBe(true);
      }, WAIT);
      // A resync: the sink reads everything of ours again.
      await engine.resync();
      await engine.whenIdle();
    }
    expect(client.sessionId).toBe(firstSession);
    expect(warnings).toEqual([]);

    // The watches still fire: a new VM provider arrives downstream, a removed one leaves.
    await admin.putProvider(root, vmIface, nativeProviderUrl(vmIface, '10.57.0.2', 20880));
    await vi.waitFor(() => { expect(downstream.service(vmRef)?.endpoints.size).toBe(2); }, WAIT);
    const vmProviders = `${root}/${javaUrlEncode(vmIface)}/providers`;
    const [first] = await admin.children(vmProviders);
    await admin.client.remove(`${vmProviders}/${first ?? ''}`);
    await vi.waitFor(() => { expect(downstream.service(vmRef)?.endpoints.size).toBe(1); }, WAIT);
    // And so does the sink's: a provider node of ours removed behind its back is put back.
    const [ours] = await admin.children(podProviders);
    await admin.client.remove(`${podProviders}/${ours ?? ''}`);
    await engine.resync();
    await vi.waitFor(async () => { expect(await admin.children(podProviders)).toHaveLength(1); }, WAIT);
    expect(warnings).toEqual([]);
  }, 120_000);
});
