// Cleanup (remove every owned ref, then retire) on the real ZooKeeper: the tree is exactly as it was
// before our bridge wrote, while a native application's mapping entry, metadata, provider and
// instance, and another bridge's records, in the very same nodes, survive.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ServiceSnapshot } from '../../bridge/model/index.ts';
import { createDubbo } from '../../adapters/dubbo/index.ts';
import type { DubboSink } from '../../adapters/dubbo/sink.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ZkAdmin, dubboOptions, nativeProviderUrl, runId, sharedZooKeeper } from './dubbo-support.ts';

function snapshot(name: string, ifaces: string[], app: string, address: string): ServiceSnapshot {
  return {
    ref: { namespace: 'shop', name },
    ports: [{ name: 'dubbo', port: 20880 }],
    endpoints: [{ address, ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `${name}-pod` } }],
    metadata: { 'isthmus.dev/dubbo-interfaces': ifaces.join(','), 'isthmus.dev/dubbo-application': app },
    origin: 'k8s',
  };
}

describe('dubbo cleanup takes back exactly what this bridge id wrote', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function setup() {
    const zk = await sharedZooKeeper();
    const run = runId();
    const roots = { root: `/clean-${run}`, servicesRoot: `/cleans-${run}`, stateRoot: `/cleanst-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { for (const r of Object.values(roots)) await admin.removeTree(r); admin.close(); });
    const closers: (() => void)[] = [];
    const sinkFor = async (bridgeId: string, persistent = true): Promise<DubboSink> => {
      const abort = new AbortController();
      const { client, sink } = createDubbo(dubboOptions(zk, { ...roots, persistent }), { registryId: 'zk', bridgeId, logger: SILENT_LOGGER });
      const close = () => { abort.abort(); client.close(); };
      cleanups.push(close);
      closers.push(close);
      await sink.start(abort.signal);
      return sink;
    };
    /** Closes every session opened so far: ephemeral nodes go, as when the bridge process stops. */
    const stopAll = () => { for (const c of closers.splice(0)) c(); };
    /** Every znode under our three roots with its data; a missing root lists nothing. */
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
    return { run, roots, admin, sinkFor, stopAll, tree, cleanup };
  }

  it('leaves the tree as before; native and other-bridge entries in shared nodes survive', async () => {
    const { run, roots, admin, sinkFor, tree, cleanup } = await setup();
    const shared = `com.example.Shared${run}`;
    const ourOnly = `com.example.Ours${run}`;
    const native = `vm-app-${run}`;
    // A native Dubbo 3 application as it registers itself: provider URL, instance, metadata, mapping.
    await admin.putProvider(roots.root, shared, nativeProviderUrl(shared, '10.70.0.1', 20880, { application: native }));
    await admin.create(`${roots.servicesRoot}/${native}/10.70.0.1:20880`, JSON.stringify({ name: native, id: '10.70.0.1:20880', address: '10.70.0.1', port: 20880, payload: { metadata: { 'dubbo.metadata.revision': 'abc123' } } }));
    await admin.create(`${roots.root}/metadata/${native}/abc123`, JSON.stringify({ app: native, revision: 'abc123', services: {} }));
    await admin.create(`${roots.root}/mapping/${shared}`, native);
    // Another bridge exports an application on the same interface.
    const other = await sinkFor(`other-${run}`);
    await other.apply(snapshot('legacy', [shared], `legacy-${run}`, '10.70.1.1'));
    const before = await tree();
    expect(before[`${roots.root}/mapping/${shared}`]).toBe(`${native},legacy-${run}`);

    const ours = await sinkFor(`ours-${run}`);
    await ours.apply(snapshot('orders', [shared, ourOnly], `orders-${run}`, '10.70.2.1'));
    const synced = await tree();
    expect(synced[`${roots.root}/mapping/${shared}`]).toBe(`${native},legacy-${run},orders-${run}`);
    expect(synced[`${roots.root}/mapping/${ourOnly}`]).toBe(`orders-${run}`);
    const ourMetadata = Object.keys(synced).filter((p) => p.startsWith(`${roots.root}/metadata/orders-${run}/`));
    expect(ourMetadata).toHaveLength(1);
    // Two records (one per bridge id), each in one or more shards `<record>#<n>`.
    const records = new Set(Object.keys(synced).filter((p) => p.startsWith(`${roots.stateRoot}/`)).map((p) => p.split('#')[0]));
    expect(records.size).toBe(2);

    await cleanup(ours);
    expect(await tree()).toEqual(before);
    // A second cleanup finds nothing and changes nothing.
    await cleanup(ours);
    expect(await tree()).toEqual(before);
  });

  it('keeps our application in the mapping while a provider of it remains, and a mapping node we created while others are listed', async () => {
    const { run, roots, admin, sinkFor, tree, cleanup } = await setup();
    const iface = `com.example.Kept${run}`;
    const app = `kept-${run}`;
    const ours = await sinkFor(`ours-${run}`);
    await ours.apply(snapshot('kept', [iface], app, '10.71.0.1'));
    const mapping = `${roots.root}/mapping/${iface}`;
    expect(await admin.data(mapping)).toBe(app);
    // After us, a native instance of the same application name registers, and a native app appends itself.
    await admin.putProvider(roots.root, iface, nativeProviderUrl(iface, '10.71.9.9', 20880, { application: app }));
    await admin.client.setData(mapping, Buffer.from(`${app},late-${run}`), -1);

    await cleanup(ours);
    // Our provider URL and instance are gone; the native provider of `app` still needs its mapping entry.
    const after = await tree();
    expect(Object.keys(after).filter((p) => p.startsWith(`${roots.servicesRoot}/${app}/`))).toEqual([]);
    expect(await admin.children(`${roots.root}/${iface}/providers`)).toHaveLength(1);
    expect(after[mapping]).toBe(`${app},late-${run}`);
    // The entry stays recorded, so a later cleanup takes it back once the native provider left.
    const record = Object.keys(after).filter((p) => p.startsWith(`${roots.stateRoot}/`));
    expect(record).toHaveLength(1);

    for (const child of await admin.children(`${roots.root}/${iface}/providers`)) await admin.remove(`${roots.root}/${iface}/providers/${child}`);
    await cleanup(ours);
    const final = await tree();
    // The node we created stays (a native app is listed in it), without our name; our record and state root are gone.
    expect(final[mapping]).toBe(`late-${run}`);
    expect(Object.keys(final).filter((p) => p.startsWith(roots.stateRoot))).toEqual([]);
    // The providers directory was created by us and is empty now: gone, while the mapping keeps its parents.
    expect(final[`${roots.root}/${iface}`]).toBeUndefined();
    expect(final[`${roots.root}/mapping`]).toBeDefined();
  });

  it('works from a new process after an ephemeral-mode bridge stopped: everything it added is read back from ZooKeeper', async () => {
    const { run, roots, admin, sinkFor, stopAll, tree, cleanup } = await setup();
    const iface = `com.example.Eph${run}`;
    await admin.create(`${roots.root}/mapping/${iface}`, `vm-app-${run}`);
    const before = await tree();
    const running = await sinkFor(`eph-${run}`, false);
    await running.apply(snapshot('eph', [iface], `eph-${run}`, '10.72.0.1'));
    expect(await admin.data(`${roots.root}/mapping/${iface}`)).toBe(`vm-app-${run},eph-${run}`);
    stopAll();
    // The session is closed: the ephemeral provider URL and instance are gone, the rest is not.
    await vi.waitFor(async () => { expect(await admin.children(`${roots.servicesRoot}/eph-${run}`)).toEqual([]); }, { timeout: 20_000 });
    expect(await tree()).not.toEqual(before);

    const fresh = await sinkFor(`eph-${run}`, false);
    expect(await fresh.ownedRefs()).toEqual([]);
    await cleanup(fresh);
    expect(await tree()).toEqual(before);
  });
});
