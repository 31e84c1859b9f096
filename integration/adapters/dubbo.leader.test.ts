// Two daemons of one bridge id with no Kubernetes registry, electing their writer through the
// real ZooKeeper (ephemeral sequential nodes on the session the exports live on): exactly one
// writes; a killed leader (its connection gone without closing the session) is replaced once
// ZooKeeper expires that session; a leader cut off stops writing before the other starts; a
// release hands over at once.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createDubbo, createDubboLeader, javaUrlEncode, type ZkClient, type ZkLeaderElector } from '../../adapters/dubbo/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ZkAdmin, dubboOptions, runId, sharedZooKeeper } from './dubbo-support.ts';
import { TcpProxy } from './tcp-proxy.ts';

const run = runId();
const roots = { root: `/le-${run}`, servicesRoot: `/les-${run}`, stateRoot: `/isthmus-le-${run}` };
// ZooKeeper's smallest session timeout on the harness server (2 × tickTime).
const SESSION_MS = 4000;
const TICK_MS = 2000;
const LE = { enabled: true, deadlineRatio: 0.6, retryPeriodSeconds: 0.5 };
const WAIT = { timeout: 30_000, interval: 20 };

/** Each test exports its own interface. */
function ifaceOf(bridgeId: string): string {
  return `com.example.${bridgeId.replace(/-/g, '')}.Greeter`;
}

interface Replica {
  readonly elector: ZkLeaderElector;
  readonly client: ZkClient;
  readonly engine: Engine;
  readonly proxy: TcpProxy;
  readonly abort: AbortController;
  readonly changes: { leader: boolean; at: number }[];
}

function ep(i: number): Endpoint {
  return { address: `10.62.0.${i}`, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `pod-${i}` } };
}

const cleanups: (() => Promise<void> | void)[] = [];

/** One daemon behind its own proxy (to kill or cut it): a pod view, the Dubbo sink and elector on one session. */
async function replica(zk: string, bridgeId: string, name: string, view: number): Promise<Replica> {
  const k8s = new MemoryRegistry();
  const ref = { namespace: 'shop', name: `greeter-${bridgeId}` };
  k8s.upsertService(ref, [{ name: 'dubbo', port: 20880 }], { 'isthmus.dev/dubbo-interfaces': ifaceOf(bridgeId), 'isthmus.dev/dubbo-application': bridgeId });
  k8s.putEndpoint(ref, ep(view));
  const proxy = await new TcpProxy(`tcp://${zk}`).start();
  const o = dubboOptions(`127.0.0.1:${proxy.port}`, { ...roots, sessionTimeoutMs: SESSION_MS, leaderElection: { ...LE, identity: name } });
  const ctx = { registryId: 'zk', bridgeId, logger: SILENT_LOGGER };
  const { client, sink } = createDubbo(o, ctx);
  const elector = createDubboLeader(o, ctx, client, undefined);
  const abort = new AbortController();
  const source = new MemorySource('k8s', k8s);
  await source.start(abort.signal);
  await sink.start(abort.signal);
  const route: Route = { id: 'k8s->zk', from: ['k8s'], to: 'zk', select: {}, map: {}, policy: DEFAULT_POLICY };
  const engine = new Engine({ bridgeId, sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50, resyncMs: 300, isWriter: () => elector.isLeader() });
  const changes: { leader: boolean; at: number }[] = [];
  elector.onChange((leader) => {
    changes.push({ leader, at: Date.now() });
    if (leader) void engine.resync().catch(() => undefined);
  });
  cleanups.push(() => { abort.abort(); }, () => engine.stop(), () => { client.close(); }, () => proxy.close());
  return { elector, client, engine, proxy, abort, changes };
}

async function pair(first: Replica, second: Replica): Promise<void> {
  first.elector.start(first.abort.signal);
  await vi.waitFor(() => { expect(first.elector.isLeader()).toBe(true); }, WAIT);
  second.elector.start(second.abort.signal);
  await new Promise((r) => setTimeout(r, 2 * LE.retryPeriodSeconds * 1000));
  expect(second.elector.isLeader()).toBe(false);
  first.engine.start();
  second.engine.start();
}

function overlapSampler(a: Replica, b: Replica): { readonly count: number; stop(): void } {
  const state = { count: 0 };
  const timer = setInterval(() => { if (a.elector.isLeader() && b.elector.isLeader()) state.count++; }, 10);
  return { get count() { return state.count; }, stop: () => { clearInterval(timer); } };
}

/** The exported provider URLs of one bridge id's interface: host of each, and the session owning it. */
async function exported(admin: ZkAdmin, bridgeId: string): Promise<{ host: string; owner: string }[]> {
  const dir = `${roots.root}/${javaUrlEncode(ifaceOf(bridgeId))}/providers`;
  const out: { host: string; owner: string }[] = [];
  for (const child of await admin.children(dir)) {
    const { stat } = await admin.client.getData(`${dir}/${child}`);
    out.push({ host: /10\.62\.0\.\d+/.exec(decodeURIComponent(child))?.[0] ?? child, owner: stat.ephemeralOwner.toString('hex') });
  }
  return out;
}

describe.concurrent('dubbo leader election on the real ZooKeeper', () => {
  const admin = { current: undefined as ZkAdmin | undefined };
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    const a = admin.current;
    if (a === undefined) return;
    for (const path of Object.values(roots)) await a.removeTree(path);
    a.close();
  });
  async function zkAdmin(): Promise<ZkAdmin> {
    admin.current ??= new ZkAdmin(await sharedZooKeeper());
    return admin.current;
  }

  it('exactly one of two daemons writes; after kill -9 of the writer the other takes over within the session timeout', async () => {
    const zk = await sharedZooKeeper();
    const check = await zkAdmin();
    const bridgeId = `le-kill-${run}`;
    const a = await replica(zk, bridgeId, `a-${run}`, 1);
    const b = await replica(zk, bridgeId, `b-${run}`, 2);
    const overlap = overlapSampler(a, b);
    await pair(a, b);
    const followerWrites = b.client.writes;
    await vi.waitFor(async () => { expect(await exported(check, bridgeId)).toEqual([{ host: '10.62.0.1', owner: a.client.sessionId }]); }, WAIT);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      seen.add(JSON.stringify(await exported(check, bridgeId)));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.size).toBe(1);
    expect(b.client.writes).toBe(followerWrites);

    // kill -9: the process and its connection are gone without closing the session.
    const killedAt = Date.now();
    a.abort.abort();
    await a.engine.stop();
    await a.proxy.cut();
    await vi.waitFor(() => { expect(b.elector.isLeader()).toBe(true); }, WAIT);
    const takeoverMs = Date.now() - killedAt;
    await vi.waitFor(async () => { expect(await exported(check, bridgeId)).toEqual([{ host: '10.62.0.2', owner: b.client.sessionId }]); }, WAIT);
    console.log(JSON.stringify({ figure: 'zookeeper-leader-takeover-after-kill', takeoverMs, sessionTimeoutMs: SESSION_MS, tickMs: TICK_MS }));
    // ZooKeeper expires a session a full timeout after it last heard from it (rounded up to its
    // next tick); the leader last spoke at most one retry period before the kill.
    expect(takeoverMs).toBeGreaterThanOrEqual(SESSION_MS - LE.retryPeriodSeconds * 1000);
    expect(takeoverMs).toBeLessThanOrEqual(SESSION_MS + TICK_MS + 2 * LE.retryPeriodSeconds * 1000 + 1000);
    overlap.stop();
    expect(overlap.count).toBe(0);
  });

  it('a leader cut off from ZooKeeper stops writing before the standby starts (no split brain)', async () => {
    const zk = await sharedZooKeeper();
    const check = await zkAdmin();
    const bridgeId = `le-cut-${run}`;
    const a = await replica(zk, bridgeId, `a-${run}`, 1);
    const b = await replica(zk, bridgeId, `b-${run}`, 2);
    const overlap = overlapSampler(a, b);
    await pair(a, b);
    await vi.waitFor(async () => { expect(await exported(check, bridgeId)).toEqual([{ host: '10.62.0.1', owner: a.client.sessionId }]); }, WAIT);

    const cutAt = Date.now();
    await a.proxy.cut();
    await vi.waitFor(() => { expect(b.elector.isLeader()).toBe(true); }, WAIT);
    const stopped = a.changes.find((c) => !c.leader && c.at >= cutAt);
    const started = b.changes.find((c) => c.leader);
    expect(stopped).toBeDefined();
    expect(started).toBeDefined();
    const figure = { cutToStopMs: stopped!.at - cutAt, cutToTakeoverMs: started!.at - cutAt, gapMs: started!.at - stopped!.at };
    console.log(JSON.stringify({ figure: 'zookeeper-leader-network-cut', ...figure, sessionTimeoutMs: SESSION_MS, deadlineRatio: LE.deadlineRatio }));
    expect(figure.cutToStopMs).toBeLessThanOrEqual(SESSION_MS * LE.deadlineRatio + 500);
    expect(figure.gapMs).toBeGreaterThan(0);
    overlap.stop();
    expect(overlap.count).toBe(0);

    // Back on the network: its session has expired, it campaigns with a new node behind the new leader.
    const oldSession = a.client.sessionId;
    await a.proxy.restore();
    await vi.waitFor(() => { expect(a.client.connected && a.client.sessionId !== oldSession).toBe(true); }, WAIT);
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(true);
    expect(await exported(check, bridgeId)).toEqual([{ host: '10.62.0.2', owner: b.client.sessionId }]);
    expect(await check.children(`${roots.stateRoot}/${bridgeId}/leader`)).toHaveLength(2);
  });

  it('a released election node is taken over at once', async () => {
    const zk = await sharedZooKeeper();
    const bridgeId = `le-release-${run}`;
    const a = await replica(zk, bridgeId, `a-${run}`, 1);
    const b = await replica(zk, bridgeId, `b-${run}`, 2);
    await pair(a, b);
    a.abort.abort();
    await a.engine.stop();
    const releasedAt = Date.now();
    await a.elector.release();
    await vi.waitFor(() => { expect(b.elector.isLeader()).toBe(true); }, WAIT);
    const takeoverMs = Date.now() - releasedAt;
    console.log(JSON.stringify({ figure: 'zookeeper-leader-takeover-after-release', takeoverMs, retryPeriodSeconds: LE.retryPeriodSeconds }));
    // The standby's watch on its predecessor fires at once; the retry period is the fallback.
    expect(takeoverMs).toBeLessThanOrEqual(b.elector.takeoverMs + 500);
  });
});
