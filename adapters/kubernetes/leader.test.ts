import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { LeaderElector, type LeaseApi } from './leader.ts';
import type { KLease } from './types.ts';

/** A Lease store with resourceVersion checks, like the API server's optimistic concurrency. */
class FakeLeases implements LeaseApi {
  lease: KLease | undefined;
  #rv = 0;
  down = false;
  getLease(): Promise<KLease | undefined> {
    if (this.down) return Promise.reject(new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', 'down'));
    return Promise.resolve(this.lease === undefined ? undefined : structuredClone(this.lease));
  }
  createLease(body: KLease): Promise<KLease> {
    if (this.lease !== undefined) return Promise.reject(new BridgeError('ISTHMUS_REGISTRY_CONFLICT', 'exists'));
    return Promise.resolve(this.#store(body));
  }
  replaceLease(body: KLease): Promise<KLease> {
    if (this.down) return Promise.reject(new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', 'down'));
    if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) return Promise.reject(new BridgeError('ISTHMUS_REGISTRY_CONFLICT', 'rv'));
    return Promise.resolve(this.#store(body));
  }
  #store(body: KLease): KLease {
    this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.#rv) } };
    return structuredClone(this.lease);
  }
}

const OPTS = { namespace: 'ns', name: 'lease', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };

describe('LeaderElector', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('elects one holder; the other takes over only after the lease expired by its own clock', async () => {
    const store = new FakeLeases();
    const a = new LeaderElector(store, 'a', OPTS);
    const b = new LeaderElector(store, 'b', OPTS);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    vi.setSystemTime(Date.now() + 14_000);
    expect(await b.tryAcquireOrRenew()).toBe(false); // b first saw this record 14 s ago: not expired
    vi.setSystemTime(Date.now() + 2_000);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.isLeader()).toBe(false);
  });

  it('stops claiming leadership once renewals fail for renewDeadline, before anyone can take over', async () => {
    const store = new FakeLeases();
    const a = new LeaderElector(store, 'a', OPTS);
    await a.tryAcquireOrRenew();
    store.down = true;
    vi.setSystemTime(Date.now() + 9_000);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    vi.setSystemTime(Date.now() + 1_500);
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(a.isLeader()).toBe(false);
  });

  it('release hands over at once', async () => {
    const store = new FakeLeases();
    const a = new LeaderElector(store, 'a', OPTS);
    const b = new LeaderElector(store, 'b', OPTS);
    await a.tryAcquireOrRenew();
    await b.tryAcquireOrRenew();
    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });

  it('reports each gain of leadership as an event, a renewal after a lapse included', async () => {
    const store = new FakeLeases();
    const a = new LeaderElector(store, 'a', OPTS);
    const events: boolean[] = [];
    const off = a.onChange((l) => events.push(l));
    await a.tryAcquireOrRenew();
    await a.tryAcquireOrRenew();
    expect(events).toEqual([true]);
    store.down = true;
    vi.setSystemTime(Date.now() + 11_000);
    expect(a.isLeader()).toBe(false);
    store.down = false;
    await a.tryAcquireOrRenew();
    expect(events).toEqual([true, true]);
    await a.release();
    expect(events).toEqual([true, true, false]);
    off();
  });

  it('rejects a renew deadline that is not shorter than the lease', () => {
    expect(() => new LeaderElector(new FakeLeases(), 'a', { ...OPTS, renewDeadlineSeconds: 15 })).toThrow(/renewDeadline/);
  });
});
