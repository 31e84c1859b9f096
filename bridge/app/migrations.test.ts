import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../catalog/index.ts';
import type { ServiceRef } from '../model/index.ts';
import type { Migration, MigrationObject, MigrationStore } from '../ports/index.ts';
import { endpoint } from '../resolver/testing/fixtures.ts';
import type { MigrationStatus } from '../runtime/index.ts';
import { SILENT_LOGGER, Weights, type ServiceExplain, type TargetStatus } from '../sync/index.ts';
import type { Split } from '../sync/split.ts';
import { MigrationFollower } from './migration-follower.ts';
import { migrationStatus } from './migration-status.ts';
import { MigrationStatusWriter } from './migration-status-writer.ts';

const ORDERS: ServiceRef = { namespace: 'shop', name: 'orders' };
const quiet = SILENT_LOGGER;

/** A MigrationStore in memory: what the Kubernetes one does, minus the apiserver. */
class MemoryStore implements MigrationStore {
  items: Migration[] = [];
  statusWrites: { object: MigrationObject; status: MigrationStatus }[] = [];
  readonly #listeners = new Set<() => void>();
  start(): Promise<void> { return Promise.resolve(); }
  available(): { ok: boolean } { return { ok: true }; }
  list(): readonly Migration[] { return this.items; }
  onChange(l: () => void): () => void { this.#listeners.add(l); return () => this.#listeners.delete(l); }
  put(m: Migration): void {
    this.items = [...this.items.filter((i) => i.object.name !== m.object.name), m];
    for (const l of this.#listeners) l();
  }
  setSplit(ref: ServiceRef, split: Split | undefined): Promise<MigrationObject> {
    const object = { namespace: ref.namespace, name: ref.name };
    this.put({ object, ref, generation: 1, ...(split === undefined ? {} : { split }) });
    return Promise.resolve(object);
  }
  writeStatus(object: MigrationObject, status: MigrationStatus): Promise<void> {
    this.statusWrites.push({ object, status });
    this.items = this.items.map((m) => (m.object.name === object.name ? { ...m, status } : m));
    return Promise.resolve();
  }
}

function migration(split?: Split, extra: Partial<Migration> = {}): Migration {
  return { object: { namespace: 'shop', name: 'orders' }, ref: ORDERS, generation: 3, ...(split === undefined ? {} : { split }), ...extra };
}

function entry(): CatalogEntry {
  const eps = [
    endpoint('vm', '10.0.0.1', { weight: 9000 }),
    endpoint('vm', '10.0.0.2', { ready: false }),
    endpoint('k8s', '10.1.0.1', { weight: 1000 }),
  ];
  return { ref: ORDERS, revision: 1, ports: [], endpoints: eps, registries: ['vm', 'k8s'], metadata: {} };
}

function target(sink: string, extra: Partial<TargetStatus> = {}): TargetStatus {
  return { sink, ref: ORDERS, routes: ['r'], outcome: 'in-sync', desiredEndpoints: 2, at: 1_700_000_000_000, ...extra };
}

function explain(targets: TargetStatus[]): ServiceExplain {
  return { ref: ORDERS, sources: [], targets, quarantined: [] };
}

describe('migrationStatus', () => {
  const base = { split: { vm: 90, k8s: 10 }, splitFrom: 'migration' as const, problem: undefined, entry: entry(), lastWrites: new Map(), kube: new Set(['k8s']), now: 1_700_000_001_000 };

  it('counts ready/total, weight and share per origin, and summarises them for kubectl columns', () => {
    const s = migrationStatus({ ...base, migration: migration({ vm: 90, k8s: 10 }), explain: explain([target('vm'), target('k8s')]) });
    expect(s.origins).toEqual({ k8s: { ready: 1, total: 1, weight: 1000, share: 10 }, vm: { ready: 1, total: 2, weight: 9000, share: 90 } });
    expect([s.service, s.split, s.ready, s.observedGeneration]).toEqual(['shop/orders', 'k8s=10 vm=90', 'k8s 1/1, vm 1/2', 3]);
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([['SplitApplied', 'True', 'Applied'], ['Synced', 'True', 'InSync']]);
  });

  it('reports held deletions and a split it could not use, and keeps transition times while nothing changes', () => {
    const held = target('vm', { outcome: 'held', held: { sink: 'vm', ref: ORDERS, reason: 'mass deletion', endpoints: 4, since: 0 } });
    const first = migrationStatus({ ...base, problem: 'registry "k8" is not configured', migration: migration({ vm: 1, k8: 9 }), explain: explain([held]) });
    expect(first.heldDeletions).toBe(4);
    expect(first.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([['SplitApplied', 'False', 'InvalidSplit'], ['Synced', 'False', 'DeletionHeld']]);
    const later = migrationStatus({ ...base, now: base.now + 60_000, problem: 'registry "k8" is not configured', migration: migration({ vm: 1, k8: 9 }, { status: first }), explain: explain([held]) });
    expect(later.conditions?.map((c) => c.lastTransitionTime)).toEqual(first.conditions?.map((c) => c.lastTransitionTime));
  });

  it('says when a migration marked done is not finished, and why', () => {
    const vmServing = migrationStatus({ ...base, migration: migration(undefined, { phase: 'done' }), explain: explain([target('vm')]) });
    expect(vmServing.conditions?.find((c) => c.type === 'Done')).toMatchObject({ status: 'False', reason: 'VmInstancesServing' });
    const podsOnly: CatalogEntry = { ...entry(), endpoints: [endpoint('k8s', '10.1.0.1')] };
    const exported = migrationStatus({ ...base, entry: podsOnly, migration: migration(undefined, { phase: 'done' }), explain: explain([target('vm')]) });
    expect(exported.conditions?.find((c) => c.type === 'Done')).toMatchObject({ status: 'False', reason: 'StillExported' });
    const finished = migrationStatus({ ...base, entry: podsOnly, migration: migration(undefined, { phase: 'done' }), explain: explain([target('vm', { desiredEndpoints: 0 })]) });
    expect(finished.conditions?.find((c) => c.type === 'Done')).toMatchObject({ status: 'True', reason: 'Finished' });
  });
});

describe('MigrationFollower and MigrationStatusWriter', () => {
  function setup(leader = true) {
    const store = new MemoryStore();
    const weights = new Weights({ 'shop/orders': { vm: 1 } }, { registries: ['vm', 'k8s'] });
    const follower = new MigrationFollower(store, weights, quiet);
    follower.start();
    let now = 1_700_000_000_000;
    let targets = [target('vm')];
    const writer = new MigrationStatusWriter({
      store, follower, weights, kube: new Set(['k8s']), logger: quiet, isLeader: () => leader, now: () => now,
      catalog: { get: () => entry() },
      engine: { explain: () => explain(targets) },
    });
    return { store, weights, follower, writer, tick: (ms: number) => { now += ms; }, setTargets: (t: TargetStatus[]) => { targets = t; } };
  }

  it('puts the objects\' splits in force, and leaves out one naming an unknown registry', () => {
    const { store, weights, follower } = setup();
    store.put(migration({ vm: 10, k8s: 90 }));
    expect([weights.get(ORDERS), weights.origin(ORDERS)]).toEqual([{ vm: 10, k8s: 90 }, 'migration']);
    store.put(migration({ vm: 10, k8: 90 }));
    expect([weights.get(ORDERS), weights.origin(ORDERS)]).toEqual([{ vm: 1 }, 'config']);
    expect(follower.problemOf(migration())).toMatch(/"k8" is not configured/);
    store.items = [];
    store.put(migration(undefined, { object: { namespace: 'shop', name: 'other' } }));
    expect(weights.origin(ORDERS)).toBe('config');
  });

  it('writes status on the leader only when it changed, and lastSync alone at most once a minute', async () => {
    const { store, writer, tick, setTargets } = setup();
    store.put(migration({ vm: 10, k8s: 90 }));
    expect(await writer.tick()).toBe(1);
    expect(await writer.tick()).toBe(0);
    setTargets([target('vm', { at: 1_700_000_005_000 })]);
    tick(5_000);
    expect(await writer.tick()).toBe(0);
    tick(60_000);
    expect(await writer.tick()).toBe(1);
    setTargets([target('vm', { outcome: 'error', error: 'consul: 403', at: 1_700_000_005_000 })]);
    expect(await writer.tick()).toBe(1);
    expect(store.statusWrites.at(-1)?.status.conditions?.find((c) => c.type === 'Synced')).toMatchObject({ status: 'False', reason: 'SyncFailed' });
  });

  it('leaves the status of a service it does not know to the bridge that does, once one is written', async () => {
    const store = new MemoryStore();
    const weights = new Weights({}, { registries: ['vm', 'k8s'] });
    const follower = new MigrationFollower(store, weights, quiet);
    follower.start();
    const writer = new MigrationStatusWriter({
      store, follower, weights, kube: new Set(['k8s']), logger: quiet, isLeader: () => true,
      catalog: { get: () => undefined }, engine: { explain: () => explain([]) },
    });
    store.put(migration({ vm: 10, k8s: 90 }));
    expect(await writer.tick()).toBe(1); // nobody wrote one yet: say what we see
    store.put({ ...migration({ vm: 10, k8s: 90 }), status: { ...store.items[0]?.status, ready: 'vm 3/3' } });
    expect(await writer.tick()).toBe(0);
  });

  it('a standby writes nothing but reports the same status', async () => {
    const { store, writer } = setup(false);
    store.put(migration({ vm: 10, k8s: 90 }, { phase: 'shifting' }));
    expect(await writer.tick()).toBe(0);
    expect(store.statusWrites).toEqual([]);
    const report = writer.report(ORDERS);
    expect(report).toMatchObject({ object: 'shop/orders', phase: 'shifting', split: { vm: 10, k8s: 90 }, splitFrom: 'migration' });
    expect(report.status?.origins?.['vm']).toEqual({ ready: 1, total: 2, weight: 9000, share: 90 });
  });

  it('remembers when each sink last wrote the service', async () => {
    const { store, writer, setTargets } = setup();
    store.put(migration({ vm: 10, k8s: 90 }));
    setTargets([target('vm', { outcome: 'applied', at: 1_700_000_003_000 })]);
    await writer.tick();
    setTargets([target('vm', { outcome: 'in-sync', at: 1_700_000_009_000 })]);
    await writer.tick();
    expect(store.statusWrites.at(-1)?.status.sinks?.['vm']).toEqual({ endpoints: 2, state: 'in-sync', lastWrite: new Date(1_700_000_003_000).toISOString() });
  });
});
