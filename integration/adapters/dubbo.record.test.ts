// The creation record on the real ZooKeeper: a burst of concurrent entries (a thousand new
// services at start-up each add one) lands in a few compare-and-set writes, loses none, and a
// write from elsewhere in between is merged, not overwritten.
import { afterAll, describe, expect, it } from 'vitest';
import { ZkClient } from '../../adapters/dubbo/client.ts';
import { CreationRecord, withApp, withMapping } from '../../adapters/dubbo/record.ts';
import { RecordShards } from '../../adapters/dubbo/record-shards.ts';
import { ZkAdmin, runId, sharedZooKeeper } from './dubbo-support.ts';

describe('dubbo creation record', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function setup(): Promise<{ client: ZkClient; record: CreationRecord; root: string }> {
    const connect = await sharedZooKeeper();
    const root = `/record-${runId()}`;
    const admin = new ZkAdmin(connect);
    cleanups.push(async () => { await admin.removeTree(root); admin.close(); });
    // Half-megabyte shard writes wait on ZooKeeper's fsync; with the drills' JVMs starting beside
    // this file, a 5 s request timeout ran out and a 10 s session lost its connection. How fast
    // a write is under load is not what this file tests.
    const client = new ZkClient({ connect, sessionTimeoutMs: 30_000, requestTimeoutMs: 30_000, registry: 'record-test' });
    client.start();
    cleanups.push(() => { client.close(); });
    return { client, record: new CreationRecord(client, `${root}/bridge`, Buffer.from('isthmus'), undefined), root };
  }

  it('coalesces concurrent updates into a few writes and keeps every entry', async () => {
    const { client, record } = await setup();
    const apps = Array.from({ length: 200 }, (_, i) => `app-${i}`);
    const before = client.writes;
    await Promise.all(apps.flatMap((a) => [
      record.update((d) => withApp(d, a)),
      record.update((d) => withMapping(d, `/dubbo/mapping/I${a}`, a, true)),
    ]));
    const writes = client.writes - before;
    const read = await record.read();
    expect(read?.doc.apps).toEqual([...apps].sort());
    expect(Object.keys(read?.doc.mappings ?? {})).toHaveLength(apps.length);
    // One write per entry would be 400 (and more with version conflicts); parents take a few.
    expect(writes).toBeLessThan(20);
    // Nothing new: no write at all.
    const again = client.writes;
    await Promise.all(apps.map((a) => record.update((d) => withApp(d, a))));
    expect(client.writes).toBe(again);
  });

  it('merges with a write made elsewhere since its own last write', async () => {
    const { client, record } = await setup();
    await record.update((d) => withApp(d, 'ours'));
    // Another process (a second replica during a hand-over) adds an entry behind our back.
    const other = new CreationRecord(client, record.path, Buffer.from('isthmus'), undefined);
    await other.update((d) => withApp(d, 'theirs'));
    await record.update((d) => withApp(d, 'ours-too'));
    expect((await record.read())?.doc.apps).toEqual(['ours', 'ours-too', 'theirs']);
  });

  it('spreads entries past jute.maxbuffer over shards, each znode under 1 MB, in a few writes', async () => {
    const { client, root } = await setup();
    const shards = new RecordShards(client, `${root}/big`, Buffer.from('isthmus'), undefined);
    // ~150 bytes of JSON per entry: 12,000 interfaces are ~1.8 MB, which one znode refuses.
    const pkg = 'com.example.platform.migration.generated.interfaces.very.long.package';
    const paths = Array.from({ length: 12_000 }, (_, i) => `/dubbo/mapping/${pkg}.Service${i}`);
    const before = client.writes;
    await Promise.all(paths.map((p, i) => shards.update({ app: `app-${i % 500}`, mapping: { path: p, created: true } })));
    const writes = client.writes - before;
    const found = new Set<string>();
    let bytes = 0;
    const all = await shards.shards();
    expect(all.length).toBeGreaterThan(1);
    for (const shard of all) {
      const { data } = await client.getData(shard.path);
      expect(data?.length ?? 0).toBeLessThan(1024 * 1024);
      bytes += data?.length ?? 0;
      for (const p of Object.keys((await shard.read())?.doc.mappings ?? {})) found.add(p);
    }
    expect(bytes).toBeGreaterThan(1024 * 1024);
    expect(found.size).toBe(paths.length);
    // Coalesced as one record is: a handful of writes, not one per entry.
    expect(writes).toBeLessThan(100);
    // Known to any shard: nothing written again, from this process or a new one.
    const again = client.writes;
    await Promise.all(paths.slice(0, 50).map((p, i) => shards.update({ app: `app-${i % 500}`, mapping: { path: p, created: true } })));
    const fresh = new RecordShards(client, `${root}/big`, Buffer.from('isthmus'), undefined);
    await fresh.update({ app: 'app-0', mapping: { path: paths[0]!, created: true } });
    expect(client.writes).toBe(again);
  }, 120_000);
});
