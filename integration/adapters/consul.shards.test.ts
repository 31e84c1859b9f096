// Shard nodes on the real agent: records a single-node version wrote move to their service's
// shard through the normal read/plan/execute (written there, then deleted from the old node, in
// one transaction), foreign records on the old node and native ones stay, a restarted sink writes
// nothing, a changed shard count converges, and cleanup's retire removes only our emptied nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import { applyDesired } from '../../bridge/ports/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { shardFilter, shardOf, targetNode } from '../../adapters/consul/shards.ts';
import { consulApi, deregisterOwnNodes, runId, sharedConsulUrl } from './consul-support.ts';

interface Instance { Node: string; ServiceID: string }

describe('consul sink shard nodes on the real agent', () => {
  const run = runId();
  const node = `isthmus-shard-it-${run}`;
  const native = `native-shard-${run}`;
  const abort = new AbortController();
  let base = '';

  beforeAll(async () => {
    base = await sharedConsulUrl();
  });

  afterAll(async () => {
    abort.abort();
    if (base === '') return;
    await deregisterOwnNodes(base, node);
    await consulApi(base, 'PUT', '/v1/catalog/deregister', { Node: native });
  });

  const sink = (nodeShards: number) => {
    const opts = Value.Default(ConsulOptions, { address: base, nodeName: node, nodeShards }) as ConsulOptions;
    return createConsul(opts, { registryId: 'consul', bridgeId: 'shard-it', logger: SILENT_LOGGER });
  };
  const ep = (s: number, i: number): Endpoint => ({
    address: `10.89.${s}.${i}`,
    ports: { http: 8080 },
    ...conditionsOf('ready'),
    weight: 100,
    metadata: {},
    origin: { registry: 'k8s', nativeId: `e${s}-${i}` },
  });
  // Names that leave shard 0 under 16 shards, so each one has to move.
  const names = Array.from({ length: 40 }, (_, i) => `shard-${run}-${i}`).filter((n) => shardOf(n, 16) !== 0).slice(0, 6);
  const snap = (s: number): ServiceSnapshot => {
    const name = names[s] ?? '';
    return { ref: { namespace: 'default', name }, ports: [{ name: 'http', port: 8080 }], endpoints: [ep(s, 1), ep(s, 2)], metadata: {}, origin: 'k8s' };
  };
  const instances = async (name: string): Promise<string[]> =>
    (await consulApi<Instance[]>(base, 'GET', `/v1/catalog/service/${encodeURIComponent(name)}`)).map((i) => `${i.Node}/${i.ServiceID}`).sort();

  it('moves single-node records to their shard, leaves foreign ones, restarts with 0 writes, converges on a new count', async () => {
    const old = sink(1);
    for (let s = 0; s < names.length; s++) await applyDesired(old.sink, snap(s));
    const name = names[0] ?? '';
    // Another bridge's record on our old node (same nodeName configured elsewhere) and a native one.
    await consulApi(base, 'PUT', '/v1/txn', [
      { Service: { Verb: 'set', Node: node, Service: { ID: `theirs-${run}`, Service: name, Address: '10.89.99.1', Port: 80, Meta: { 'isthmus-managed-by': 'someone-else' } } } },
    ]);
    await consulApi(base, 'PUT', '/v1/catalog/register', { Node: native, Address: '10.89.98.1', Service: { ID: `native-${run}`, Service: name, Port: 80 } });
    const before = await instances(name);
    expect(before.filter((i) => i.startsWith(`${node}/isthmus-`))).toHaveLength(2);

    const upgraded = sink(16);
    await upgraded.sink.start(abort.signal);
    const plan = upgraded.sink.plan(await upgraded.sink.read(snap(0).ref), snap(0));
    expect(plan.operations.map((o) => o.verb)).toEqual(['create', 'create', 'delete', 'delete']);
    const writes = upgraded.client.writes;
    await upgraded.sink.execute(plan);
    expect(upgraded.client.writes - writes).toBe(1);
    for (let s = 1; s < names.length; s++) await applyDesired(upgraded.sink, snap(s));

    const target = targetNode(node, name, 16);
    const moved = before.filter((i) => i.startsWith(`${node}/isthmus-`)).map((i) => `${target}/${i.split('/')[1] ?? ''}`);
    expect(await instances(name)).toEqual([...moved, `${node}/theirs-${run}`, `${native}/native-${run}`].sort());
    for (const n of names) expect((await instances(n)).filter((i) => i.includes('/isthmus-')).every((i) => i.startsWith(`${targetNode(node, n, 16)}/`))).toBe(true);
    expect((await upgraded.sink.ownedRefs()).map((r) => r.name).sort()).toEqual([...names].sort());

    const restarted = sink(16);
    for (let s = 0; s < names.length; s++) await applyDesired(restarted.sink, snap(s));
    expect(restarted.client.writes).toBe(0);

    const fewer = sink(4);
    for (let s = 0; s < names.length; s++) await applyDesired(fewer.sink, snap(s));
    for (const n of names) expect((await instances(n)).filter((i) => i.includes('/isthmus-')).every((i) => i.startsWith(`${targetNode(node, n, 4)}/`))).toBe(true);
    const again = sink(4);
    for (let s = 0; s < names.length; s++) await applyDesired(again.sink, snap(s));
    expect(again.client.writes).toBe(0);

    // Cleanup: every export removed, then retire drops our emptied nodes; the old node keeps the foreign record.
    for (let s = 0; s < names.length; s++) await fewer.sink.remove(snap(s).ref);
    await fewer.sink.retire();
    const left = await consulApi<{ Node: string }[]>(base, 'GET', `/v1/catalog/nodes?filter=${encodeURIComponent(shardFilter(node, 'Node'))}`);
    expect(left.map((n) => n.Node)).toEqual([node]);
    expect(await instances(name)).toEqual([`${node}/theirs-${run}`, `${native}/native-${run}`].sort());
  });
});
