// Expiring the bridge's ZooKeeper session (its connection cut for longer than the session
// timeout, so the real server expires it): our ephemeral nodes are re-created under a new
// session, and nothing imported from ZooKeeper is deleted downstream meanwhile.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import { createDubbo, javaUrlEncode } from '../../adapters/dubbo/index.ts';
import { TcpProxy } from './tcp-proxy.ts';
import { ZkAdmin, dubboOptions, nativeProviderUrl, runId, sharedZooKeeper } from './dubbo-support.ts';

const WAIT = { timeout: 60_000, interval: 100 };

function route(id: string, from: string, to: string): Route {
  return { id, from: [from], to, select: {}, map: {}, policy: DEFAULT_POLICY };
}

function podEndpoint(i: number): Endpoint {
  return { address: `10.44.0.${i}`, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `pod-${i}` } };
}

describe('dubbo session expiry', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('re-creates our ephemeral nodes under a new session and deletes nothing downstream meanwhile', async () => {
    const zk = await sharedZooKeeper();
    const run = runId();
    const root = `/se-${run}`;
    const servicesRoot = `/ses-${run}`;
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(root); await admin.removeTree(servicesRoot); admin.close(); });

    // A VM provider (persistent here, so only the bridge's own session is at stake).
    const vmIface = `com.example.se${run}.Inventory`;
    await admin.putProvider(root, vmIface, nativeProviderUrl(vmIface, '10.55.0.1', 20880));
    await admin.putProvider(root, vmIface, nativeProviderUrl(vmIface, '10.55.0.2', 20880));

    // A Kubernetes service exported into ZooKeeper as ephemeral nodes.
    const podIface = `com.example.se${run}.Greeter`;
    const k8s = new MemoryRegistry();
    const podRef = { namespace: 'shop', name: 'greeter' };
    k8s.upsertService(podRef, [{ name: 'dubbo', port: 20880 }], { 'isthmus.dev/dubbo-interfaces': podIface, 'isthmus.dev/dubbo-application': `greeter-${run}` });
    k8s.putEndpoint(podRef, podEndpoint(1));
    k8s.putEndpoint(podRef, podEndpoint(2));

    const proxy = await new TcpProxy(`tcp://${zk}`).start();
    cleanups.push(() => proxy.close());
    // ZooKeeper's minimum session timeout is 2 × tickTime = 4 s on the harness server.
    const { client, source, sink } = createDubbo(dubboOptions(`127.0.0.1:${proxy.port}`, { root, servicesRoot, sessionTimeoutMs: 4000 }), { registryId: 'zk', bridgeId: 'se', logger: SILENT_LOGGER });
    cleanups.push(() => { client.close(); });
    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const k8sSource = new MemorySource('k8s', k8s);
    await k8sSource.start(abort.signal);
    await source.start(abort.signal);
    await sink.start(abort.signal);
    const downstream = new MemoryRegistry();
    const target = new MemorySink('target', downstream, 'se');
    const engine = new Engine({
      bridgeId: 'se',
      sources: [k8sSource, source],
      sinks: [sink, target],
      routes: [route('k8s->zk', 'k8s', 'zk'), route('zk->target', 'zk', 'target')],
      quietMs: 5,
      maxDelayMs: 50,
    });
    cleanups.push(() => engine.stop());
    engine.start();

    const providers = `${root}/${javaUrlEncode(podIface)}/providers`;
    const vmRef = { namespace: 'default', name: vmIface };
    await vi.waitFor(async () => {
      expect(await admin.children(providers)).toHaveLength(2);
      expect(await admin.children(`${servicesRoot}/greeter-${run}`)).toHaveLength(2);
      expect(downstream.service(vmRef)?.endpoints.size).toBe(2);
    }, WAIT);
    const firstSession = client.sessionId;

    // Cut the bridge off for well over the session timeout: the server expires the session.
    await proxy.cut();
    await vi.waitFor(async () => { expect(await admin.children(providers)).toHaveLength(0); }, WAIT);
    expect(source.health().reachable).toBe(false);
    await engine.resync();
    await engine.whenIdle();
    expect(downstream.service(vmRef)?.endpoints.size).toBe(2);

    await proxy.restore();
    await vi.waitFor(async () => {
      expect(client.sessionId).not.toBe(firstSession);
      expect(await admin.children(providers)).toHaveLength(2);
      expect(await admin.children(`${servicesRoot}/greeter-${run}`)).toHaveLength(2);
      expect(source.health().reachable).toBe(true);
    }, WAIT);
    for (const child of await admin.children(providers)) {
      const { stat } = await admin.client.getData(`${providers}/${child}`);
      expect(stat.ephemeralOwner.toString('hex')).toBe(client.sessionId);
    }
    expect(downstream.service(vmRef)?.endpoints.size).toBe(2);
  });
  it('a takeover by a new session replaces provider URLs create-before-delete: consumers never see fewer', async () => {
    const zk = await sharedZooKeeper();
    const run = runId();
    const roots = { root: `/tk-${run}`, servicesRoot: `/tks-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(roots.root); await admin.removeTree(roots.servicesRoot); admin.close(); });
    const iface = `com.example.tk${run}.Greeter`;
    const desired = {
      ref: { namespace: 'shop', name: 'greeter' },
      ports: [{ name: 'dubbo', port: 20880 }],
      endpoints: [podEndpoint(1), podEndpoint(2)],
      metadata: { 'isthmus.dev/dubbo-interfaces': iface, 'isthmus.dev/dubbo-application': `tk-${run}` },
      origin: 'k8s',
    };
    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const bridge = async (): Promise<ReturnType<typeof createDubbo>> => {
      const made = createDubbo(dubboOptions(zk, roots), { registryId: 'zk', bridgeId: 'tk', logger: SILENT_LOGGER });
      cleanups.push(() => { made.client.close(); });
      await made.sink.start(abort.signal);
      return made;
    };
    const first = await bridge();
    await first.sink.apply(desired);
    const providers = `${roots.root}/${javaUrlEncode(iface)}/providers`;
    expect(await admin.children(providers)).toHaveLength(2);

    // The old leader's session is still alive (it may take sessionTimeout to expire) when the new one applies.
    let fewest = Infinity;
    const state = { sampling: true };
    const sampler = (async () => {
      while (state.sampling) fewest = Math.min(fewest, (await admin.children(providers)).length);
    })();
    const second = await bridge();
    await second.sink.apply(desired);
    state.sampling = false;
    await sampler;
    expect(fewest).toBeGreaterThanOrEqual(2);
    const after = await admin.children(providers);
    expect(after).toHaveLength(2);
    for (const child of after) {
      const { stat } = await admin.client.getData(`${providers}/${child}`);
      expect(stat.ephemeralOwner.toString('hex')).toBe(second.client.sessionId);
    }
    expect((await second.sink.observe(desired.ref))?.endpoints).toHaveLength(2);
    // A second apply by the new owner writes nothing.
    const writes = second.client.writes;
    await second.sink.apply(desired);
    expect(second.client.writes).toBe(writes);
  });
});
