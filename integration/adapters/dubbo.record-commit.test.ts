// The MetadataInfo and mapping writes committed in one transaction with their creation-record
// entries, on the real ZooKeeper: concurrent plans share one write, a refused op writes nothing of
// its plan (the others still commit), a mapping changed since the read is redone from a fresh read,
// and cleanup after a crash at any point takes back exactly what we wrote.
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../../bridge/model/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ZkClient, failedOp } from '../../adapters/dubbo/client.ts';
import { dirMark } from '../../adapters/dubbo/encode.ts';
import { createDubbo } from '../../adapters/dubbo/index.ts';
import { recordPath } from '../../adapters/dubbo/record.ts';
import { sharedWrites } from '../../adapters/dubbo/record-commit.ts';
import { RecordShards } from '../../adapters/dubbo/record-shards.ts';
import type { DubboSink } from '../../adapters/dubbo/sink.ts';
import { ZkAdmin, dubboOptions, runId, sharedZooKeeper } from './dubbo-support.ts';

function snapshot(name: string, iface: string, app: string, address: string): ServiceSnapshot {
  return {
    ref: { namespace: 'shop', name },
    ports: [{ name: 'dubbo', port: 20880 }],
    endpoints: [{ address, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `${name}-pod` } }],
    metadata: { 'isthmus.dev/dubbo-interfaces': iface, 'isthmus.dev/dubbo-application': app },
    origin: 'k8s',
  };
}

describe('dubbo shared writes and their record entries in one transaction', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function setup() {
    const zk = await sharedZooKeeper();
    const run = runId();
    const roots = { root: `/rc-${run}`, servicesRoot: `/rcs-${run}`, stateRoot: `/rcst-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { for (const r of Object.values(roots)) await admin.removeTree(r); admin.close(); });
    const client = new ZkClient({ connect: zk, sessionTimeoutMs: 10_000, requestTimeoutMs: 5_000, registry: 'rc-test' });
    client.start();
    cleanups.push(() => { client.close(); });
    const sinkFor = async (bridgeId: string): Promise<DubboSink> => {
      const abort = new AbortController();
      const { client: own, sink } = createDubbo(dubboOptions(zk, { ...roots, persistent: true }), { registryId: 'zk', bridgeId, logger: SILENT_LOGGER });
      cleanups.push(() => { abort.abort(); own.close(); });
      await sink.start(abort.signal);
      return sink;
    };
    const tree = async (): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      const walk = async (path: string): Promise<void> => {
        const data = await admin.data(path);
        if (data === undefined && (await admin.client.exists(path)) === undefined) return;
        out[path] = data ?? '';
        for (const child of (await admin.children(path)).sort()) await walk(`${path}/${child}`);
      };
      for (const r of Object.values(roots)) await walk(r);
      return out;
    };
    const cleanup = async (sink: DubboSink): Promise<void> => {
      for (const ref of await sink.ownedRefs()) await sink.remove(ref);
      await sink.retire();
    };
    return { run, roots, admin, client, sinkFor, tree, cleanup };
  }

  it('commits metadata, mapping and entries of concurrent plans together, in far fewer writes than plans', async () => {
    const { roots, admin, client } = await setup();
    const mark = Buffer.from('isthmus.managed-by=t');
    const shards = new RecordShards(client, `${roots.stateRoot}/t`, mark, undefined);
    const apps = Array.from({ length: 40 }, (_, i) => `app-${i}`);
    const plans = apps.map((app) => sharedWrites({ application: app, metadata: { path: `${roots.root}/metadata/${app}/r1`, data: Buffer.from(app) }, mappings: [{ path: `${roots.root}/mapping/I${app}`, seen: null }] }));
    for (const p of plans) for (const dir of p.dirs) await client.mkdirs(dir, mark);
    await client.mkdirs(roots.stateRoot, mark);
    const before = client.writes;
    await Promise.all(plans.map((p) => shards.commit(p.entries, p.ops)));
    // Four writes per plan step by step (two znodes, two record entries); one transaction per batch here.
    expect(client.writes - before).toBeLessThan(apps.length / 4);
    const doc = JSON.parse((await admin.data(`${roots.stateRoot}/t`)) ?? '{}') as { apps: string[]; mappings: Record<string, { created: boolean; apps: string[] }> };
    expect(doc.apps).toEqual([...apps].sort());
    for (const app of apps) {
      expect(doc.mappings[`${roots.root}/mapping/I${app}`]).toEqual({ created: true, apps: [app] });
      expect(await admin.data(`${roots.root}/mapping/I${app}`)).toBe(app);
      expect(await admin.data(`${roots.root}/metadata/${app}/r1`)).toBe(app);
    }
  });

  it('a refused op writes nothing of its plan, not even its entries, while the plan beside it commits', async () => {
    const { roots, admin, client } = await setup();
    const mark = Buffer.from('isthmus.managed-by=t');
    const shards = new RecordShards(client, `${roots.stateRoot}/t`, mark, undefined);
    await admin.create(`${roots.root}/mapping/IShared`, 'native');
    await admin.client.setData(`${roots.root}/mapping/IShared`, Buffer.from('native,late'), -1);
    await client.mkdirs(`${roots.root}/metadata/stale`, mark);
    await client.mkdirs(`${roots.root}/metadata/fresh`, mark);
    // `stale` read the mapping at version 0; a native provider appended itself since (version 1).
    // Version 0 matters: node-zookeeper-client's Transaction turns it into "any version" (multi.ts).
    const stale = sharedWrites({ application: 'stale', metadata: { path: `${roots.root}/metadata/stale/r1`, data: Buffer.from('s') }, mappings: [{ path: `${roots.root}/mapping/IShared`, seen: { apps: ['native'], version: 0 } }] });
    const fresh = sharedWrites({ application: 'fresh', metadata: { path: `${roots.root}/metadata/fresh/r1`, data: Buffer.from('f') }, mappings: [] });
    const [s, f] = await Promise.allSettled([shards.commit(stale.entries, stale.ops), shards.commit(fresh.entries, fresh.ops)]);
    expect(s.status).toBe('rejected');
    expect(failedOp(s.status === 'rejected' ? s.reason : undefined)).toBeDefined();
    expect(f.status).toBe('fulfilled');
    expect(await admin.data(`${roots.root}/mapping/IShared`)).toBe('native,late');
    expect(await admin.client.exists(`${roots.root}/metadata/stale/r1`)).toBeUndefined();
    expect(await admin.data(`${roots.root}/metadata/fresh/r1`)).toBe('f');
    const doc = JSON.parse((await admin.data(`${roots.stateRoot}/t`)) ?? '{}') as { apps: string[]; mappings: Record<string, unknown> };
    expect(doc).toEqual({ apps: ['fresh'], mappings: {} });
  });

  it('a mapping changed between read and execute is appended from a fresh read, recorded as not ours, and cleanup keeps the node', async () => {
    const { run, roots, admin, sinkFor, tree, cleanup } = await setup();
    const iface = `com.example.Race${run}`;
    const mapping = `${roots.root}/mapping/${iface}`;
    await admin.create(mapping, 'native');
    const sink = await sinkFor(`race-${run}`);
    const desired = snapshot('race', iface, `race-${run}`, '10.80.0.1');
    const planned = sink.plan(await sink.read(desired.ref), desired);
    // The plan read the mapping (version 0); a native provider appends itself after that read,
    // so the planned compare-and-set is stale and ZooKeeper refuses the whole transaction.
    const plan = { ...planned, mappings: planned.mappings.map((m) => ({ ...m, seen: { apps: ['native'], version: 0 } })) };
    await admin.client.setData(mapping, Buffer.from('native,late'), -1);
    const before = await tree();
    await sink.execute(plan);
    expect(await admin.data(mapping)).toBe(`native,late,race-${run}`);
    const record = recordPath(roots.stateRoot, { bridgeId: `race-${run}`, ...roots });
    const doc = JSON.parse((await admin.data(record)) ?? '{}') as { mappings: Record<string, unknown> };
    expect(doc.mappings[mapping]).toEqual({ created: false, apps: [`race-${run}`] });
    // A second pass plans nothing, so writes nothing.
    const again = sink.plan(await sink.read(desired.ref), desired);
    expect(again.operations).toEqual([]);
    await cleanup(sink);
    expect(await tree()).toEqual(before);
  });

  it('after a crash before the transaction, or after the step-by-step path recorded the application only, cleanup removes exactly ours', async () => {
    const { run, roots, admin, client, sinkFor, tree, cleanup } = await setup();
    const bridgeId = `crash-${run}`;
    const app = `shared-name-${run}`;
    // A native provider of an application with the same name published its metadata and mapping.
    await admin.create(`${roots.root}/metadata/${app}/native-rev`, JSON.stringify({ app, revision: 'native-rev', services: {} }));
    await admin.create(`${roots.root}/mapping/com.example.Native${run}`, app);
    const before = await tree();
    // Crash 1: the directories of a transaction were created (with our mark), the transaction never sent.
    const mark = dirMark({ bridgeId });
    await client.mkdirs(`${roots.root}/metadata/ours-${run}`, mark);
    await client.mkdirs(roots.servicesRoot, mark);
    // Crash 2: the step-by-step path recorded the application, then died before its metadata.
    const shards = new RecordShards(client, recordPath(roots.stateRoot, { bridgeId, ...roots }), mark, undefined);
    await shards.update({ app });
    await shards.update({ app: `ours-${run}` });
    expect(await tree()).not.toEqual(before);

    const fresh = await sinkFor(bridgeId);
    await cleanup(fresh);
    // The native metadata and mapping of the same application name survive; our directories and record are gone.
    expect(await tree()).toEqual(before);
  });
});
