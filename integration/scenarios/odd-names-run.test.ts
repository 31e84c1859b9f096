// `isthmus run` as an operator starts it, against the real Consul and ZooKeeper, with names the
// model cannot carry in both: a Consul service `probe/slash-…` and a Dubbo provider with
// `group=team/a`. Before, either made `run` exit 1 ("malformed target key") and crash-loop on
// restart; now both are quarantined with their reason and everything else keeps syncing.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { BridgeStatus } from '../../bridge/sync/status.ts';
import { consulApi, sharedConsulUrl } from '../adapters/consul-support.ts';
import { nativeProviderUrl, runId, sharedZooKeeper, ZkAdmin } from '../adapters/dubbo-support.ts';
import { RunningBridge, TempDir, waitSynced } from '../deploy/bridge-process.ts';
import { freePort } from '../drill/net.ts';

const WAIT = { timeout: 60_000, interval: 250 };


describe('isthmus run with names the model cannot carry', () => {
  const run = runId();
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('quarantines a Consul service and a Dubbo provider with "/" and keeps running and syncing', async () => {
    const [consul, zk] = await Promise.all([sharedConsulUrl(), sharedZooKeeper()]);
    const names = { ok: `ok-${run}`, slash: `probe/slash-${run}`, later: `later-${run}` };
    for (const [i, name] of [names.ok, names.slash].entries()) {
      await consulApi(consul, 'PUT', '/v1/catalog/register', { Node: `vm-${run}`, Address: '10.90.0.1', Service: { ID: `svc-${i}-${run}`, Service: name, Address: `10.90.0.${i + 1}`, Port: 8080 } });
    }
    cleanups.push(() => consulApi(consul, 'PUT', '/v1/catalog/deregister', { Node: `vm-${run}` }).then(() => undefined));
    const roots = { root: `/odd-${run}`, servicesRoot: `/odds-${run}` };
    const admin = new ZkAdmin(zk);
    cleanups.push(async () => { await admin.removeTree(roots.root); await admin.removeTree(roots.servicesRoot); admin.close(); });
    const iface = `com.example.odd${run}.Orders`;
    await admin.putProvider(roots.root, iface, nativeProviderUrl(iface, '10.91.0.1', 20880));
    await admin.putProvider(roots.root, iface, nativeProviderUrl(iface, '10.91.0.2', 20880, { group: 'team/a' }));

    const dir = await TempDir.create('odd-names');
    cleanups.push(() => dir.remove());
    const configPath = await dir.writeConfig('isthmus.yaml', {
      bridge: { id: 'odd-names' },
      registries: {
        consul: { kind: 'consul', address: consul, services: [`*${run}*`] },
        zk: { kind: 'dubbo', connect: zk, ...roots },
        mem: { kind: 'memory' },
      },
      routes: [{ from: ['consul', 'zk'], to: 'mem' }],
      resolver: { http: { host: '127.0.0.1', port: await freePort('127.0.0.1') }, grpc: { enabled: false } },
      log: { level: 'info' },
    });
    const bridge = await RunningBridge.start(configPath);
    cleanups.push(async () => { await bridge.stop(); });

    await waitSynced(bridge, 'default', names.ok, ['mem']);
    await waitSynced(bridge, 'default', iface, ['mem']);
    const status = async (): Promise<BridgeStatus> => (await (await fetch(`${bridge.url}/v1/status`)).json()) as BridgeStatus;
    await vi.waitFor(async () => {
      const reasons = (await status()).quarantined.map((q) => `${q.registry}: ${q.reason}`);
      expect(reasons.filter((r) => r.startsWith('consul:') && r.includes('contains "/"'))).toHaveLength(1);
      expect(reasons.filter((r) => r.startsWith('zk:') && r.includes('contains "/"'))).toHaveLength(1);
    }, WAIT);
    expect((await status()).errors).toEqual([]);

    // Still running, still syncing: a service registered now arrives like any other.
    await consulApi(consul, 'PUT', '/v1/catalog/register', { Node: `vm-${run}`, Address: '10.90.0.1', Service: { ID: `svc-2-${run}`, Service: names.later, Address: '10.90.0.3', Port: 8080 } });
    await waitSynced(bridge, 'default', names.later, ['mem']);
    expect(bridge.logs.join('\n')).not.toMatch(/malformed target key/);
    expect(await bridge.stop()).toBe(0);
  }, 180_000);
});
