import { createRequire } from 'node:module';
import type * as Zk from 'node-zookeeper-client';
import { Value } from '@sinclair/typebox/value';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { SILENT_LOGGER, type EngineLogger } from '../../bridge/sync/logger-port.ts';
import { dubboAdapter, DubboOptions } from './index.ts';
import { NO_NODE, zkCode, type ZkEvent, type ZkStat } from './client.ts';
import { ZkLeaderElector, type ZkElectionClient } from './leader.ts';

const zk = createRequire(import.meta.url)('node-zookeeper-client') as typeof Zk;

/** The error ZkClient raises for a missing node. */
function noNode(): BridgeError {
  return new BridgeError('ISTHMUS_REGISTRY_CONFLICT', 'no node', { cause: new zk.Exception(NO_NODE, 'NO_NODE', noNode) });
}

/** A ZooKeeper ensemble of ephemeral sequential nodes, sessions and one-shot watches. */
class FakeEnsemble {
  readonly nodes = new Map<string, { data: Buffer; session: number }>();
  readonly #watches = new Map<string, Set<(e: ZkEvent) => void>>();
  #seq = 0;
  #sessions = 0;

  client(): FakeZk {
    return new FakeZk(this, ++this.#sessions);
  }

  newSession(): number {
    return ++this.#sessions;
  }

  /** The server expires `session`: its nodes go, and whoever watched them hears it. */
  expire(session: number): void {
    for (const [path, n] of [...this.nodes]) if (n.session === session) this.remove(path);
  }

  create(prefix: string, data: Buffer, session: number): void {
    this.nodes.set(`${prefix}${String(this.#seq++).padStart(10, '0')}`, { data, session });
  }

  remove(path: string): void {
    if (!this.nodes.delete(path)) throw noNode();
    const ws = this.#watches.get(path);
    this.#watches.delete(path);
    for (const w of ws ?? []) w(new zk.Event(zk.Event.NODE_DELETED, 'NODE_DELETED', path));
  }

  watch(path: string, w: (e: ZkEvent) => void): void {
    const set = this.#watches.get(path) ?? new Set();
    set.add(w);
    this.#watches.set(path, set);
  }
}

class FakeZk implements ZkElectionClient {
  cut = false;
  generation = 1;
  /** Sessions not yet up: the first request waits for one, as ZkClient.ready() does. */
  connecting = false;
  /** The next create is applied twice (its first try timed out here but reached the server). */
  twice = false;
  readonly #z: FakeEnsemble;
  session: number;
  readonly #listeners = new Set<(g: number) => void>();

  constructor(z: FakeEnsemble, session: number) {
    this.#z = z;
    this.session = session;
  }

  start(): void {
    // connected from the start
  }

  onSession(l: (g: number) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** Reconnects after the old session expired, as ZkClient does. */
  renew(): void {
    this.session = this.#z.newSession();
    this.generation++;
    for (const l of this.#listeners) l(this.generation);
  }

  #up(): void {
    if (this.cut) throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', 'cut');
    if (this.connecting) {
      this.connecting = false;
      this.renew();
    }
  }

  getChildren(path: string): Promise<string[]> {
    this.#up();
    return Promise.resolve([...this.#z.nodes.keys()].filter((p) => p.startsWith(`${path}/`)).map((p) => p.slice(path.length + 1)));
  }

  getData(path: string): Promise<{ data: Buffer | undefined; stat: ZkStat }> {
    this.#up();
    const n = this.#z.nodes.get(path);
    return n === undefined ? Promise.reject(noNode()) : Promise.resolve({ data: n.data, stat: {} as ZkStat });
  }

  exists(path: string, watcher?: (e: ZkEvent) => void): Promise<ZkStat | undefined> {
    this.#up();
    if (watcher !== undefined) this.#z.watch(path, watcher);
    return Promise.resolve(this.#z.nodes.has(path) ? ({} as ZkStat) : undefined);
  }

  create(path: string, data: Buffer): Promise<void> {
    this.#up();
    this.#z.create(path, data, this.session);
    if (this.twice) this.#z.create(path, data, this.session);
    this.twice = false;
    return Promise.resolve();
  }

  remove(path: string): Promise<void> {
    this.#up();
    this.#z.remove(path);
    return Promise.resolve();
  }
}

function elector(zk: FakeZk, identity: string, logger?: EngineLogger): ZkLeaderElector {
  return new ZkLeaderElector(zk, {
    stateRoot: '/isthmus',
    bridgeId: 'br',
    identity,
    retryPeriodSeconds: 2,
    deadlineRatio: 0.6,
    sessionTimeoutMs: () => Promise.resolve(10_000),
    requestedTimeoutMs: 10_000,
    ...(logger === undefined ? {} : { logger }),
  });
}

function recorder(): EngineLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (_: object, msg: string): void => { lines.push(msg); };
  return { lines, debug: () => undefined, info: push, warn: push, error: push };
}

describe('ZkLeaderElector', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('the lowest node leads; the standby names the holder once and takes over when that node goes', async () => {
    const z = new FakeEnsemble();
    const log = recorder();
    const za = z.client();
    const a = elector(za, 'a');
    const b = elector(z.client(), 'b', log);
    const abort = new AbortController();
    a.start(abort.signal);
    await vi.advanceTimersByTimeAsync(1);
    b.start(abort.signal);
    await vi.advanceTimersByTimeAsync(10_000);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect(log.lines.filter((l) => l.includes('waits as standby'))).toHaveLength(1);
    expect(log.lines.find((l) => l.includes('waits as standby'))).toMatch(/led by a on .+ \(pid \d+\)/);
    expect(zkCode(noNode())).toBe(NO_NODE);
    // a's session expires: the watch on its node wakes b at once, not at the next retry.
    za.cut = true;
    z.expire(za.session);
    await vi.advanceTimersByTimeAsync(50);
    expect(b.isLeader()).toBe(true);
    abort.abort();
  });

  it('a leader cut off stops at deadlineRatio × session timeout, before the server may expire it', async () => {
    const z = new FakeEnsemble();
    const za = z.client();
    const a = elector(za, 'a');
    const events: boolean[] = [];
    a.onChange((l) => events.push(l));
    const abort = new AbortController();
    a.start(abort.signal);
    await vi.advanceTimersByTimeAsync(5_000);
    const cutAt = Date.now();
    za.cut = true;
    // The last probe before the cut was at most deadline/3 (2 s) earlier: the 6 s deadline ends
    // between 4 and 6 s after the cut, 4 s before the server could expire the session at the soonest.
    await vi.advanceTimersByTimeAsync(3_900);
    expect(a.isLeader()).toBe(true); // a blip shorter than the deadline changes nothing
    await vi.advanceTimersByTimeAsync(2_100);
    expect(a.isLeader()).toBe(false);
    expect(events).toEqual([true, false]);
    expect(Date.now() - cutAt).toBe(6_000);
    // Back within the session timeout: same session, node still there, leading again.
    za.cut = false;
    await vi.advanceTimersByTimeAsync(2_100);
    expect(a.isLeader()).toBe(true);
    expect(events).toEqual([true, false, true]);
    abort.abort();
  });

  it('after its session expired, a replica campaigns again with a new node and does not lead over the new leader', async () => {
    const z = new FakeEnsemble();
    const za = z.client();
    const a = elector(za, 'a');
    const b = elector(z.client(), 'b');
    const abort = new AbortController();
    a.start(abort.signal);
    await vi.advanceTimersByTimeAsync(1);
    b.start(abort.signal);
    await vi.advanceTimersByTimeAsync(1);
    za.cut = true;
    z.expire(za.session);
    await vi.advanceTimersByTimeAsync(100);
    expect(b.isLeader()).toBe(true);
    za.cut = false;
    za.renew();
    await vi.advanceTimersByTimeAsync(100);
    expect([a.isLeader(), b.isLeader()]).toEqual([false, true]);
    expect([...z.nodes.keys()]).toHaveLength(2);
    abort.abort();
  });

  it('release deletes our node: the standby leads at once, and the released one never again', async () => {
    const z = new FakeEnsemble();
    const a = elector(z.client(), 'a');
    const b = elector(z.client(), 'b');
    const abortA = new AbortController();
    const abortB = new AbortController();
    a.start(abortA.signal);
    await vi.advanceTimersByTimeAsync(1);
    b.start(abortB.signal);
    await vi.advanceTimersByTimeAsync(1);
    abortA.abort();
    await a.release();
    expect(a.isLeader()).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    expect(b.isLeader()).toBe(true);
    expect([...z.nodes.keys()]).toHaveLength(1);
    await a.tryAcquire();
    expect(a.isLeader()).toBe(false);
    abortB.abort();
  });

  it('loses leadership at once when its node is deleted under it, then re-campaigns', async () => {
    const z = new FakeEnsemble();
    const a = elector(z.client(), 'a');
    const events: boolean[] = [];
    a.onChange((l) => events.push(l));
    const abort = new AbortController();
    a.start(abort.signal);
    await vi.advanceTimersByTimeAsync(1);
    const [path] = [...z.nodes.keys()];
    z.remove(path!);
    await vi.advanceTimersByTimeAsync(50);
    expect(events).toEqual([true, false, true]);
    expect([...z.nodes.keys()]).not.toContain(path);
    abort.abort();
  });

  it('leads when its first attempt started before the session was up', async () => {
    const z = new FakeEnsemble();
    const zk = z.client();
    zk.generation = 0;
    zk.connecting = true;
    const a = elector(zk, 'a');
    const abort = new AbortController();
    a.start(abort.signal);
    await vi.advanceTimersByTimeAsync(100);
    expect(a.isLeader()).toBe(true);
    expect([...z.nodes.keys()]).toHaveLength(1);
    abort.abort();
  });

  it('deletes a second node of its own (a create applied twice), which would block every later candidate', async () => {
    const z = new FakeEnsemble();
    const za = z.client();
    za.twice = true;
    const a = elector(za, 'a');
    const b = elector(z.client(), 'b');
    const abort = new AbortController();
    a.start(abort.signal);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.isLeader()).toBe(true);
    expect([...z.nodes.keys()]).toHaveLength(1);
    b.start(abort.signal);
    await vi.advanceTimersByTimeAsync(1);
    await a.release();
    await vi.advanceTimersByTimeAsync(50);
    expect(b.isLeader()).toBe(true);
    abort.abort();
  });

  it('the adapter offers an elector only with leaderElection.enabled (nothing connects until start)', () => {
    const ctx = { registryId: 'zk', bridgeId: 'br', logger: SILENT_LOGGER };
    expect(dubboAdapter.create(Value.Default(DubboOptions, {}), ctx).leader).toBeUndefined();
    const leader = dubboAdapter.create(Value.Default(DubboOptions, { leaderElection: { enabled: true } }), ctx).leader;
    expect(leader?.takeoverMs).toBe(2000);
    expect(leader?.isLeader()).toBe(false);
  });
});
