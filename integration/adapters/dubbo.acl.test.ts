// Digest ACLs on the nodes the sink writes, and a chrooted connect string, on the real ZooKeeper.
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../../bridge/model/index.ts';
import { createDubbo, ZkClient } from '../../adapters/dubbo/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ZkAdmin, dubboOptions, runId, sharedZooKeeper } from './dubbo-support.ts';

function snapshot(iface: string, app: string): ServiceSnapshot {
  return {
    ref: { namespace: 'shop', name: 'acl' },
    ports: [{ name: 'dubbo', port: 20880 }],
    endpoints: [{ address: '10.66.0.1', ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: 'pod-1' } }],
    metadata: { 'isthmus.dev/dubbo-interfaces': iface, 'isthmus.dev/dubbo-application': app },
    origin: 'k8s',
  };
}

describe('dubbo sink: digest ACLs and chroot', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('writes our nodes readable by all and changeable only with our credentials', async () => {
    const zk = await sharedZooKeeper();
    const run = runId();
    const roots = { root: `/acl-${run}`, servicesRoot: `/acls-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(roots.root); await admin.removeTree(roots.servicesRoot); admin.close(); });
    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const { client, sink } = createDubbo(dubboOptions(zk, { ...roots, persistent: true }), { registryId: 'zk', bridgeId: 'acl', logger: SILENT_LOGGER }, `isthmus:secret-${run}`);
    cleanups.push(() => { client.close(); });
    await sink.start(abort.signal);
    await sink.apply(snapshot(`com.example.acl${run}.Svc`, `acl-app-${run}`));

    const instanceDir = `${roots.servicesRoot}/acl-app-${run}`;
    const [instance] = await admin.children(instanceDir);
    expect(instance).toBe('10.66.0.1:20880');
    const acls = await admin.client.getACL(`${instanceDir}/${instance}`);
    // node-zookeeper-client's ACL objects carry `permission` (its typings say `perms`).
    expect(acls.map((a) => `${a.id.scheme}:${a.id.id.split(':')[0] ?? ''}:${(a as unknown as { permission: number }).permission}`).sort()).toEqual(['digest:isthmus:31', 'world:anyone:1']);
    // Anyone reads (Dubbo consumers); nobody without our digest rewrites. (Deleting is governed
    // by the parent's ACL in ZooKeeper, and Dubbo's directories stay open for native providers.)
    expect(await admin.data(`${instanceDir}/${instance}`)).toContain('"address":"10.66.0.1"');
    await expect(admin.client.setData(`${instanceDir}/${instance}`, Buffer.from('{}'), -1)).rejects.toMatchObject({ code: 'ISTHMUS_REGISTRY_AUTH' });
    // Our own sink still manages them.
    expect((await sink.observe({ namespace: 'shop', name: 'acl' }))?.endpoints).toHaveLength(1);
    await sink.remove({ namespace: 'shop', name: 'acl' });
    expect(await admin.children(instanceDir)).toEqual([]);
  });

  it('works under a chroot given in the connect string', async () => {
    const zk = await sharedZooKeeper();
    const run = runId();
    const chroot = `/chroot-${run}`;
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(chroot); admin.close(); });
    await admin.create(chroot, '');
    const abort = new AbortController();
    cleanups.push(() => { abort.abort(); });
    const { client, sink } = createDubbo(dubboOptions(`${zk}${chroot}`, {}), { registryId: 'zk', bridgeId: 'chroot', logger: SILENT_LOGGER });
    cleanups.push(() => { client.close(); });
    await sink.start(abort.signal);
    await sink.apply(snapshot(`com.example.chroot${run}.Svc`, `chroot-app-${run}`));
    expect(await admin.children(`${chroot}/services/chroot-app-${run}`)).toEqual(['10.66.0.1:20880']);
    expect((await admin.children(`${chroot}/dubbo/com.example.chroot${run}.Svc/providers`)).length).toBe(1);
    expect(client).toBeInstanceOf(ZkClient);
  });
});
