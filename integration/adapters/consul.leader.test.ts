// Two daemons of one bridge id with no Kubernetes registry, electing their writer through a real
// Consul session lock: exactly one writes (their source views differ, and Consul shows only the
// leader's, with no flapping); a killed leader is replaced once Consul invalidates its session;
// a leader cut off from Consul stops writing before the other starts; a release hands over at once.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { ConsulOptions, createConsul, createConsulLeader, type ConsulClient, type ConsulLeaderElector } from '../../adapters/consul/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { consulApi, deregisterOwnNodes, runId, sharedConsulUrl, TcpProxy } from './consul-support.ts';

const run = runId();
// Consul's smallest TTL; it invalidates a session 2×TTL after the last renewal.
const LE = { enabled: true, keyPrefix: `isthmus-it-${run}`, ttlSeconds: 10, renewDeadlineSeconds: 6, retryPeriodSeconds: 0.5, lockDelaySeconds: 1 };
const WAIT = { timeout: 40_000, interval: 20 };

interface Replica {
  readonly name: string;
  readonly elector: ConsulLeaderElector;
  readonly client: ConsulClient;
  readonly engine: Engine;
  readonly abort: AbortController;
  /** Every change of leadership with its time, as the elector reported it. */
  readonly changes: { leader: boolean; at: number }[];
}

function ep(i: number): Endpoint {
  return { address: `10.61.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: `i${i}` } };
}

const cleanups: (() => Promise<void> | void)[] = [];

/** One daemon: its own view of the VM registry, a Consul sink and the Consul elector, wired as `isthmus run` wires them. */
async function replica(bridgeId: string, name: string, address: string, view: number): Promise<Replica> {
  const vm = new MemoryRegistry();
  vm.putEndpoint({ namespace: 'default', name: `le-${run}-${bridgeId}` }, ep(view));
  const opts = Value.Default(ConsulOptions, { address, leaderElection: { ...LE, identity: name } }) as ConsulOptions;
  const ctx = { registryId: 'consul', bridgeId, logger: SILENT_LOGGER };
  const { client, sink } = createConsul(opts, ctx);
  const elector = createConsulLeader(opts, ctx);
  const abort = new AbortController();
  const source = new MemorySource('vm', vm);
  await source.start(abort.signal);
  await sink.start(abort.signal);
  const route: Route = { id: 'vm->consul', from: ['vm'], to: 'consul', select: {}, map: {}, policy: DEFAULT_POLICY };
  const engine = new Engine({ bridgeId, sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50, resyncMs: 300, isWriter: () => elector.isLeader() });
  const changes: { leader: boolean; at: number }[] = [];
  elector.onChange((leader) => {
    changes.push({ leader, at: Date.now() });
    if (leader) void engine.resync().catch(() => undefined);
  });
  cleanups.push(() => { abort.abort(); }, () => engine.stop());
  return { name, elector, client, engine, abort, changes };
}

/** Starts `first`, waits until it leads, then starts `second`: which one leads is then known. */
async function pair(first: Replica, second: Replica): Promise<void> {
  first.elector.start(first.abort.signal);
  await vi.waitFor(() => { expect(first.elector.isLeader()).toBe(true); }, WAIT);
  second.elector.start(second.abort.signal);
  await new Promise((r) => setTimeout(r, 2 * LE.retryPeriodSeconds * 1000));
  expect(second.elector.isLeader()).toBe(false);
  first.engine.start();
  second.engine.start();
}

/** Counts the moments at which both replicas claimed to lead (sampled every 10 ms). */
function overlapSampler(a: Replica, b: Replica): { readonly count: number; stop(): void } {
  const state = { count: 0 };
  const timer = setInterval(() => { if (a.elector.isLeader() && b.elector.isLeader()) state.count++; }, 10);
  return { get count() { return state.count; }, stop: () => { clearInterval(timer); } };
}

async function addresses(base: string, service: string): Promise<string[]> {
  const entries = await consulApi<{ ServiceAddress: string }[]>(base, 'GET', `/v1/catalog/service/${service}`);
  return entries.map((e) => e.ServiceAddress).sort();
}

describe.concurrent('consul leader election on the real agent', () => {
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    const base = await sharedConsulUrl();
    await consulApi(base, 'DELETE', `/v1/kv/${LE.keyPrefix}?recurse`);
    const sessions = await consulApi<{ ID: string; Name: string }[]>(base, 'GET', '/v1/session/list');
    for (const s of sessions.filter((x) => x.Name.includes(`-${run}`))) await consulApi(base, 'PUT', `/v1/session/destroy/${s.ID}`);
    for (const id of ['kill', 'cut', 'release']) await deregisterOwnNodes(base, `isthmus-le-${id}-${run}`);
  });

  it('exactly one of two daemons writes; after kill -9 of the writer the other takes over within 2×TTL + lock delay', async () => {
    const base = await sharedConsulUrl();
    const bridgeId = `le-kill-${run}`;
    const service = `le-${run}-${bridgeId}`;
    const a = await replica(bridgeId, `a-${run}`, base, 1);
    const b = await replica(bridgeId, `b-${run}`, base, 2);
    const overlap = overlapSampler(a, b);
    const followerWrites = b.client.writes;
    await pair(a, b);
    await vi.waitFor(async () => { expect(await addresses(base, service)).toEqual(['10.61.0.1']); }, WAIT);
    // Several resyncs of both engines (every 300 ms): Consul keeps showing the leader's view only.
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      seen.add((await addresses(base, service)).join(','));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect([...seen]).toEqual(['10.61.0.1']);
    expect(b.client.writes).toBe(followerWrites);

    // kill -9: the elector stops renewing without releasing, the engine stops writing.
    const killedAt = Date.now();
    a.abort.abort();
    await a.engine.stop();
    await vi.waitFor(() => { expect(b.elector.isLeader()).toBe(true); }, WAIT);
    const takeoverMs = Date.now() - killedAt;
    await vi.waitFor(async () => { expect(await addresses(base, service)).toEqual(['10.61.0.2']); }, WAIT);
    console.log(JSON.stringify({ figure: 'consul-leader-takeover-after-kill', takeoverMs, ttlSeconds: LE.ttlSeconds, lockDelaySeconds: LE.lockDelaySeconds, retryPeriodSeconds: LE.retryPeriodSeconds }));
    // Not before Consul could have invalidated the session (2×TTL after the last renewal, at most
    // one retry period before the kill) plus the lock delay; not much after (retries, 2-core box).
    expect(takeoverMs).toBeGreaterThanOrEqual((2 * LE.ttlSeconds - LE.retryPeriodSeconds) * 1000);
    expect(takeoverMs).toBeLessThanOrEqual((2 * LE.ttlSeconds + LE.lockDelaySeconds + 2 * LE.retryPeriodSeconds + 2) * 1000);
    overlap.stop();
    expect(overlap.count).toBe(0);
  });

  it('a leader cut off from Consul stops writing before the standby starts (no split brain)', async () => {
    const base = await sharedConsulUrl();
    const bridgeId = `le-cut-${run}`;
    const proxy = await new TcpProxy(base).start();
    cleanups.push(() => proxy.close());
    const a = await replica(bridgeId, `a-${run}`, proxy.url, 1);
    const b = await replica(bridgeId, `b-${run}`, base, 2);
    const overlap = overlapSampler(a, b);
    await pair(a, b);
    await vi.waitFor(async () => { expect(await addresses(base, `le-${run}-${bridgeId}`)).toEqual(['10.61.0.1']); }, WAIT);

    const cutAt = Date.now();
    await proxy.cut();
    await vi.waitFor(() => { expect(b.elector.isLeader()).toBe(true); }, WAIT);
    const stopped = a.changes.find((c) => !c.leader && c.at >= cutAt);
    const started = b.changes.find((c) => c.leader);
    expect(stopped).toBeDefined();
    expect(started).toBeDefined();
    const figure = { cutToStopMs: stopped!.at - cutAt, cutToTakeoverMs: started!.at - cutAt, gapMs: started!.at - stopped!.at };
    console.log(JSON.stringify({ figure: 'consul-leader-network-cut', ...figure, renewDeadlineSeconds: LE.renewDeadlineSeconds, ttlSeconds: LE.ttlSeconds }));
    // The cut leader stops within its renew deadline of the last renewal before the cut...
    expect(figure.cutToStopMs).toBeLessThanOrEqual((LE.renewDeadlineSeconds + 1) * 1000);
    // ...and the standby starts only after that, by Consul's own timing (2×TTL, lock delay).
    expect(figure.gapMs).toBeGreaterThan(0);
    overlap.stop();
    expect(overlap.count).toBe(0);

    // Back on the network, the old leader finds its session gone and the lock held: it stays standby.
    await proxy.restore();
    await new Promise((r) => setTimeout(r, 2000));
    expect(a.elector.isLeader()).toBe(false);
    expect(b.elector.isLeader()).toBe(true);
  });

  it('a released lock is taken over within about one retry period', async () => {
    const base = await sharedConsulUrl();
    const bridgeId = `le-release-${run}`;
    const a = await replica(bridgeId, `a-${run}`, base, 1);
    const b = await replica(bridgeId, `b-${run}`, base, 2);
    await pair(a, b);
    a.abort.abort();
    await a.engine.stop();
    const releasedAt = Date.now();
    await a.elector.release();
    await vi.waitFor(() => { expect(b.elector.isLeader()).toBe(true); }, WAIT);
    const takeoverMs = Date.now() - releasedAt;
    console.log(JSON.stringify({ figure: 'consul-leader-takeover-after-release', takeoverMs, retryPeriodSeconds: LE.retryPeriodSeconds, takeoverBoundMs: b.elector.takeoverMs }));
    // No lock delay after a release: one jittered retry period plus round-trips.
    expect(takeoverMs).toBeLessThanOrEqual(b.elector.takeoverMs + 1000);
  });
});
