import { Value } from '@sinclair/typebox/value';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { SILENT_LOGGER, type EngineLogger } from '../../bridge/sync/logger-port.ts';
import { consulAdapter, ConsulOptions } from './index.ts';
import type { ReadResult } from './client.ts';
import { ConsulLeaderElector, type ConsulLockApi } from './leader.ts';

/**
 * Sessions and one KV lock as Consul's server keeps them: a session is invalidated 2×TTL after
 * its last renewal (Consul's multiplier), which releases its lock and blocks it for the lock delay.
 */
class FakeConsul {
  readonly sessions = new Map<string, { ttlMs: number; lockDelayMs: number; expiresAt: number }>();
  kv: { Session?: string; Value: string; blockedUntil: number } | undefined;
  down = false;
  #next = 0;

  /** One client's view; `cut` makes only that client's requests fail. */
  api(cut: { value: boolean } = { value: false }): ConsulLockApi {
    const guard = (): void => {
      this.#expire();
      if (this.down || cut.value) throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', 'down');
    };
    return {
      read: <T>(path: string): Promise<ReadResult<T>> => {
        guard();
        if (!path.startsWith('/v1/kv/') || this.kv === undefined) return Promise.reject(notFound());
        const { Session, Value } = this.kv;
        return Promise.resolve({ body: [{ Value: Buffer.from(Value).toString('base64'), ...(Session === undefined ? {} : { Session }) }] as T, index: 1 });
      },
      put: <T>(path: string, body: unknown, params?: Readonly<Record<string, string | undefined>>): Promise<T> => {
        guard();
        return Promise.resolve(this.#put(path, body, params ?? {}) as T);
      },
    };
  }

  #put(path: string, body: unknown, params: Readonly<Record<string, string | undefined>>): unknown {
    const now = Date.now();
    if (path === '/v1/session/create') {
      const b = body as { TTL: string; LockDelay: string };
      const id = `s${++this.#next}`;
      const ttlMs = parseFloat(b.TTL) * 1000;
      this.sessions.set(id, { ttlMs, lockDelayMs: parseFloat(b.LockDelay) * 1000, expiresAt: now + 2 * ttlMs });
      return { ID: id };
    }
    const [, , kind, op, id = ''] = path.split('/');
    if (kind === 'session') {
      const s = this.sessions.get(id);
      if (op === 'destroy') {
        this.#invalidate(id);
        return true;
      }
      if (s === undefined) throw notFound();
      s.expiresAt = now + 2 * s.ttlMs;
      return [{ ID: id }];
    }
    const acquire = params['acquire'];
    const release = params['release'];
    if (acquire !== undefined) {
      if (!this.sessions.has(acquire)) throw new BridgeError('ISTHMUS_REGISTRY_REJECTED', 'invalid session', { details: { status: 500 } });
      if (this.kv?.Session !== undefined && this.kv.Session !== acquire) return false;
      if ((this.kv?.blockedUntil ?? 0) > now && this.kv?.Session !== acquire) return false;
      this.kv = { Session: acquire, Value: JSON.stringify(body), blockedUntil: 0 };
      return true;
    }
    if (release !== undefined && this.kv?.Session === release) {
      this.kv = { Value: this.kv.Value, blockedUntil: 0 };
      return true;
    }
    return false;
  }

  #expire(): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= Date.now()) this.#invalidate(id);
  }

  #invalidate(id: string): void {
    const s = this.sessions.get(id);
    this.sessions.delete(id);
    if (s !== undefined && this.kv?.Session === id) this.kv = { Value: this.kv.Value, blockedUntil: Date.now() + s.lockDelayMs };
  }
}

function notFound(): BridgeError {
  return new BridgeError('ISTHMUS_REGISTRY_REJECTED', 'not found', { details: { status: 404 } });
}

const OPTS = { keyPrefix: 'isthmus', ttlSeconds: 10, renewDeadlineSeconds: 7, retryPeriodSeconds: 2, lockDelaySeconds: 5 };

function recorder(): EngineLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (_: object, msg: string): void => { lines.push(msg); };
  return { lines, debug: () => undefined, info: push, warn: push, error: push };
}

describe('ConsulLeaderElector', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('elects one holder; the standby names it once and takes over only after invalidation plus lock delay', async () => {
    const consul = new FakeConsul();
    const log = recorder();
    const a = new ConsulLeaderElector(consul.api(), 'br', 'a', OPTS);
    const b = new ConsulLeaderElector(consul.api(), 'br', 'b', OPTS, log);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(log.lines.filter((l) => l.includes('waits as standby'))).toHaveLength(1);
    expect(log.lines.find((l) => l.includes('waits as standby'))).toMatch(/led by a on .+ \(pid \d+\)/);
    // a dies (no renewals): Consul invalidates its session at 2×TTL, then blocks the lock 5 s.
    vi.setSystemTime(Date.now() + 20_000);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    vi.setSystemTime(Date.now() + 4_000);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    vi.setSystemTime(Date.now() + 1_500);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(a.isLeader()).toBe(false);
    expect(await a.tryAcquireOrRenew()).toBe(false); // its session is gone; b holds the lock
  });

  it('stops claiming leadership renewDeadline after the last good renewal, before Consul can hand over', async () => {
    const consul = new FakeConsul();
    const cut = { value: false };
    const a = new ConsulLeaderElector(consul.api(cut), 'br', 'a', OPTS);
    const b = new ConsulLeaderElector(consul.api(), 'br', 'b', OPTS);
    const events: [string, boolean, number][] = [];
    a.onChange((l) => events.push(['a', l, Date.now()]));
    b.onChange((l) => events.push(['b', l, Date.now()]));
    a.start(new AbortController().signal);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.isLeader()).toBe(true);
    const bAbort = new AbortController();
    b.start(bAbort.signal);
    await vi.advanceTimersByTimeAsync(10_000);
    cut.value = true; // a loses Consul: its renewals fail from now on
    await vi.advanceTimersByTimeAsync(40_000);
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
    const lost = events.find(([who, l]) => who === 'a' && !l);
    const gained = events.find(([who, l]) => who === 'b' && l);
    expect(lost).toBeDefined();
    expect(gained).toBeDefined();
    // a stopped at most renewDeadline after the cut; b started no earlier than 2×TTL + lock delay after it.
    expect(lost![2]).toBeLessThanOrEqual(1_010_001 + 7_000);
    expect(gained![2] - lost![2]).toBeGreaterThanOrEqual(20_000 - 7_000 + 5_000 - 2_000);
    bAbort.abort();
  });

  it('release hands over without the lock delay and destroys the session', async () => {
    const consul = new FakeConsul();
    const a = new ConsulLeaderElector(consul.api(), 'br', 'a', OPTS);
    const b = new ConsulLeaderElector(consul.api(), 'br', 'b', OPTS);
    await a.tryAcquireOrRenew();
    await b.tryAcquireOrRenew();
    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(consul.sessions.size).toBe(0); // b has none yet: it only reads while the lock is held
    expect(await b.tryAcquireOrRenew()).toBe(true);
    // Released for good: confirmations after release are ignored.
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it('loses leadership at once when Consul invalidated the session, and reports gains and losses', async () => {
    const consul = new FakeConsul();
    const a = new ConsulLeaderElector(consul.api(), 'br', 'a', OPTS);
    const events: boolean[] = [];
    a.onChange((l) => events.push(l));
    await a.tryAcquireOrRenew();
    await a.tryAcquireOrRenew();
    const [id] = [...consul.sessions.keys()];
    await consul.api().put(`/v1/session/destroy/${id}`, undefined);
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(events).toEqual([true, false]);
    vi.setSystemTime(Date.now() + 5_000); // the lock delay
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(events).toEqual([true, false, true]);
  });

  it('a stopped elector (a crash) stops leading and leaves its session to expire', async () => {
    const consul = new FakeConsul();
    const a = new ConsulLeaderElector(consul.api(), 'br', 'a', OPTS);
    const abort = new AbortController();
    a.start(abort.signal);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.isLeader()).toBe(true);
    abort.abort();
    await a.stopped();
    expect(a.isLeader()).toBe(false);
    expect(consul.sessions.size).toBe(1);
    expect(consul.kv?.Session).toBeDefined();
  });

  it('rejects deadlines that would let two leaders overlap', () => {
    expect(() => new ConsulLeaderElector(new FakeConsul().api(), 'br', 'a', { ...OPTS, renewDeadlineSeconds: 10 })).toThrow(/renewDeadlineSeconds/);
    expect(() => new ConsulLeaderElector(new FakeConsul().api(), 'br', 'a', { ...OPTS, retryPeriodSeconds: 7 })).toThrow(/retryPeriodSeconds/);
  });

  it('the adapter offers an elector only with leaderElection.enabled', () => {
    const ctx = { registryId: 'consul', bridgeId: 'br', logger: SILENT_LOGGER };
    expect(consulAdapter.create(Value.Default(ConsulOptions, {}), ctx).leader).toBeUndefined();
    const leader = consulAdapter.create(Value.Default(ConsulOptions, { leaderElection: { enabled: true } }), ctx).leader;
    expect(leader?.takeoverMs).toBe(2400);
    expect(leader?.isLeader()).toBe(false);
  });
});
