// A real ZooKeeper restart: the server process stops for longer than the bridge's session
// timeout and starts again on its data. Afterwards our ephemeral provider nodes must be there,
// owned by the bridge's live session, and nothing imported from ZooKeeper may have been deleted
// downstream at any point. Recovery times are printed as JSON lines.
// ZooKeeper keeps sessions in its data and re-arms their timeouts when it starts, so a client
// that reconnects at once resumes its session and the nodes never go. The second case makes
// the bridge reach the restarted server only after that timeout: the server expires the session
// and deletes the nodes, and the bridge must re-create them under a new one.
// The server is a private one (own port and data dir, the harness's provisioned ZooKeeper and
// its own start function), so the shared server other tests use is never touched.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import { createDubbo, javaUrlEncode } from '../../adapters/dubbo/index.ts';
import { freePort } from '../drill/net.ts';
import { zookeeper } from '../servers/kinds/zookeeper.ts';
import { stopProcess, type TrackedProcess } from '../servers/processes.ts';
import { silentProgress } from '../servers/progress.ts';
import { ZkAdmin, dubboOptions, nativeProviderUrl, runId } from './dubbo-support.ts';
import { TcpProxy } from './tcp-proxy.ts';

const WAIT = { timeout: 60_000, interval: 50 };
// ZooKeeper's smallest session timeout at the harness's tickTime (2 s) is 2 ticks.
const SESSION_TIMEOUT_MS = 4000;

/** Downstream of the ZooKeeper source: counts every endpoint or service it is asked to delete. */
class CountingSink extends MemorySink {
  deletes = 0;

  override execute(plan: Parameters<MemorySink['execute']>[0]): Promise<void> {
    this.deletes += plan.delete.length + (plan.deleteService ? 1 : 0);
    return super.execute(plan);
  }
}

/** Starts one at a time: the kind's port is read from the process environment (see start). */
let starting: Promise<void> = Promise.resolve();

/** A ZooKeeper of this test's own, started and stopped with the harness's launcher for the kind. */
class PrivateZooKeeper {
  readonly runDir: string;
  readonly port: number;
  #procs: TrackedProcess[] = [];

  constructor(runDir: string, port: number) {
    this.runDir = runDir;
    this.port = port;
  }

  get connect(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts on the data in runDir (kept across restarts); resolves once it answers `ruok`. */
  start(): Promise<void> {
    const started = starting.then(() => this.#start());
    starting = started.catch(() => undefined);
    return started;
  }

  async #start(): Promise<void> {
    // The kind reads its port from the environment on every call, until it has answered.
    const saved = process.env['ISTHMUS_PORT_ZOOKEEPER'];
    process.env['ISTHMUS_PORT_ZOOKEEPER'] = String(this.port);
    try {
      await zookeeper.start({ onProgress: silentProgress, runDir: this.runDir, track: (proc) => { this.#procs.push(proc); return Promise.resolve(); } });
    } finally {
      if (saved === undefined) delete process.env['ISTHMUS_PORT_ZOOKEEPER'];
      else process.env['ISTHMUS_PORT_ZOOKEEPER'] = saved;
    }
  }

  async stop(): Promise<void> {
    for (const proc of this.#procs.splice(0)) await stopProcess(proc);
  }
}

function route(id: string, from: string, to: string): Route {
  return { id, from: [from], to, select: {}, map: {}, policy: DEFAULT_POLICY };
}

function podEndpoint(i: number): Endpoint {
  return { address: `10.46.0.${i}`, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `pod-${i}` } };
}

const provisioned = await zookeeper.isProvisioned();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// The two cases share nothing but the start lock above (each has its own server, proxy, bridge
// and names) and mostly wait out timeouts, so they run side by side.
describe.concurrent('dubbo: a real ZooKeeper restart', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /**
   * Runs a bridge (Kubernetes → ZooKeeper ephemerals, ZooKeeper → a counting sink) through a
   * proxy to a private server, stops the server for twice the session timeout, starts it on its
   * data and lets the bridge back in `lateMs` after that. Returns the figures.
   */
  async function restart(lateMs: number): Promise<Record<string, unknown>> {
    const dir = await mkdtemp(join(tmpdir(), 'isthmus-zk-restart-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const server = new PrivateZooKeeper(dir, await freePort('127.0.0.1'));
    cleanups.push(() => server.stop());
    await server.start();
    const proxy = await new TcpProxy(`tcp://${server.connect}`).start();
    cleanups.push(() => proxy.close());

    const run = runId();
    const root = `/rs-${run}`;
    const servicesRoot = `/rss-${run}`;
    const admin = new ZkAdmin(server.connect);
    cleanups.push(() => { admin.close(); });
    // VM providers, persistent here, so that only the bridge's own session is at stake.
    const vmIface = `com.example.rs${run}.Inventory`;
    await admin.putProvider(root, vmIface, nativeProviderUrl(vmIface, '10.56.0.1', 20880));
    await admin.putProvider(root, vmIface, nativeProviderUrl(vmIface, '10.56.0.2', 20880));

    const podIface = `com.example.rs${run}.Greeter`;
    const k8s = new MemoryRegistry();
    const podRef = { namespace: 'shop', name: 'greeter' };
    k8s.upsertService(podRef, [{ name: 'dubbo', port: 20880 }], { 'isthmus.dev/dubbo-interfaces': podIface, 'isthmus.dev/dubbo-application': `greeter-${run}` });
    k8s.putEndpoint(podRef, podEndpoint(1));
    k8s.putEndpoint(podRef, podEndpoint(2));

    const { client, source, sink } = createDubbo(dubboOptions(`127.0.0.1:${proxy.port}`, { root, servicesRoot, sessionTimeoutMs: SESSION_TIMEOUT_MS }), { registryId: 'zk', bridgeId: 'rs', logger: SILENT_LOGGER });
    cleanups.push(() => { client.close(); });
    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const k8sSource = new MemorySource('k8s', k8s);
    await k8sSource.start(abort.signal);
    await source.start(abort.signal);
    await sink.start(abort.signal);
    const downstream = new MemoryRegistry();
    const target = new CountingSink('target', downstream, 'rs');
    const engine = new Engine({
      bridgeId: 'rs',
      sources: [k8sSource, source],
      sinks: [sink, target],
      routes: [route('k8s->zk', 'k8s', 'zk'), route('zk->target', 'zk', 'target')],
      quietMs: 5,
      maxDelayMs: 50,
      // Resyncs during the outage are part of what must delete nothing.
      resyncMs: 1000,
    });
    cleanups.push(() => engine.stop());
    engine.start();

    const providers = `${root}/${javaUrlEncode(podIface)}/providers`;
    const instances = `${servicesRoot}/greeter-${run}`;
    const vmRef = { namespace: 'default', name: vmIface };
    await vi.waitFor(async () => {
      expect(await admin.children(providers)).toHaveLength(2);
      expect(await admin.children(instances)).toHaveLength(2);
      expect(downstream.service(vmRef)?.endpoints.size).toBe(2);
    }, WAIT);
    const firstSession = client.sessionId;
    let fewestDownstream = Infinity;
    let fewestOurs = Infinity;
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        fewestDownstream = Math.min(fewestDownstream, downstream.service(vmRef)?.endpoints.size ?? 0);
        await sleep(20);
      }
    })();

    const stoppedAt = Date.now();
    await server.stop();
    if (lateMs > 0) await proxy.cut();
    await vi.waitFor(() => { expect(source.health().reachable).toBe(false); }, WAIT);
    await sleep(2 * SESSION_TIMEOUT_MS);
    await engine.resync();
    await engine.whenIdle();
    const restartAt = Date.now();
    await server.start();
    const upAt = Date.now();
    // The admin's own session went through the same outage; how soon its library reconnects
    // is not under test, so the checks from here on use a fresh client (and a read that finds
    // the server not yet serving is simply not a sample).
    const after = new ZkAdmin(server.connect);
    cleanups.push(() => { after.close(); });
    if (lateMs > 0) {
      // Watch our nodes on the server while the bridge is still kept away.
      while (Date.now() - upAt < lateMs) {
        const seen = await after.children(providers).catch(() => undefined);
        if (seen !== undefined) fewestOurs = Math.min(fewestOurs, seen.length);
        await sleep(100);
      }
      await proxy.restore();
    }
    const backAt = Date.now();

    await vi.waitFor(async () => {
      expect(source.health().reachable).toBe(true);
      const nodes = await after.children(providers);
      expect(nodes).toHaveLength(2);
      for (const node of nodes) {
        const { stat } = await after.client.getData(`${providers}/${node}`);
        expect(stat.ephemeralOwner.toString('hex')).toBe(client.sessionId);
      }
      expect(await after.children(instances)).toHaveLength(2);
    }, WAIT);
    const recoveredAt = Date.now();
    await engine.resync();
    await engine.whenIdle();
    sampling.on = false;
    await sampler;

    expect(target.deletes).toBe(0);
    expect(fewestDownstream).toBe(2);
    expect(downstream.service(vmRef)?.endpoints.size).toBe(2);
    return {
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      downMs: restartAt - stoppedAt,
      serverStartMs: upAt - restartAt,
      bridgeBackAfterUpMs: backAt - upAt,
      bridgeBackToRecoveredMs: recoveredAt - backAt,
      sessionKept: client.sessionId === firstSession,
      ourNodesWhileAway: lateMs > 0 ? fewestOurs : undefined,
      downstreamDeletes: target.deletes,
    };
  }

  it.skipIf(!provisioned)('reconnecting at once: the session is resumed, our nodes stay, nothing is deleted downstream', async () => {
    const figures = await restart(0);
    console.log(JSON.stringify({ figure: 'dubbo-zookeeper-restart', ...figures }));
    expect(figures['sessionKept']).toBe(true);
  }, 120_000);

  it.skipIf(!provisioned)('reaching it only after the session timeout: our nodes are re-created under a new session, nothing is deleted downstream', async () => {
    const figures = await restart(3 * SESSION_TIMEOUT_MS);
    console.log(JSON.stringify({ figure: 'dubbo-zookeeper-restart-session-expired', ...figures }));
    // The restarted server expired the session it had restored, and deleted our nodes with it.
    expect(figures['ourNodesWhileAway']).toBe(0);
    expect(figures['sessionKept']).toBe(false);
  }, 120_000);
});
