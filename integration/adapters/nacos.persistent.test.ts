// A persistent Nacos service (instances registered as persistent, health-checked by the server):
// with `ephemeral: auto` the sink notices and writes persistent instances too (Nacos refuses to
// mix the kinds in one service), re-applying writes nothing, and remove touches only ours.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { createNacosSink, nacosConnection } from '../../adapters/nacos/index.ts';
import { NativeApp, ctx, nacosOptions, runId, sharedNacos } from './nacos-support.ts';

const WAIT = { timeout: 30_000, interval: 200 };

function ep(i: number): Endpoint {
  return { address: `10.70.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: { i: String(i) }, origin: { registry: 'k8s', nativeId: `p${i}` } };
}

describe('nacos sink into a persistent service', () => {
  const abort = new AbortController();
  const apps: NativeApp[] = [];
  afterAll(() => {
    abort.abort();
    for (const a of apps) a.close();
  });

  it('matches the service kind, is idempotent and removes only its own records', async () => {
    const server = await sharedNacos();
    const app = new NativeApp(server);
    apps.push(app);
    const name = { group: 'DEFAULT_GROUP', service: `persistent-${runId()}` };
    const ref = { namespace: 'default', name: name.service };
    const vm = { ip: '192.168.70.1', port: 8080, weight: 1, healthy: true, enabled: true, ephemeral: false, clusterName: 'DEFAULT', metadata: {} };
    await app.client.registerPersistent(name, vm);
    await vi.waitFor(async () => { expect((await app.list(ref, 0)).length).toBe(1); }, WAIT);

    const o = nacosOptions(server);
    const conn = nacosConnection(o, ctx('nacos', 'persist-bridge'));
    const sink = createNacosSink(o, ctx('nacos', 'persist-bridge'), conn);
    await sink.start(abort.signal);
    const want: ServiceSnapshot = { ref, ports: [{ name: 'http', port: 8080 }], endpoints: [ep(1), ep(2)], metadata: {}, origin: 'k8s' };
    await sink.apply(want);
    await vi.waitFor(async () => { expect((await app.list(ref, 0)).length).toBe(3); }, WAIT);
    const ours = (await app.list(ref)).filter((i) => i.metadata?.['isthmus.managed-by'] === 'persist-bridge');
    expect(ours.map((i) => i.ephemeral)).toEqual([false, false]);

    const writes = conn.writes;
    await sink.apply(want);
    expect(conn.writes - writes).toBe(0);
    expect((await sink.observe(ref))?.endpoints.map((e) => e.address)).toEqual(['10.70.0.1', '10.70.0.2']);

    await sink.remove(ref);
    await vi.waitFor(async () => { expect((await app.list(ref, 0)).map((i) => i.ip)).toEqual(['192.168.70.1']); }, WAIT);
    await app.client.deregisterPersistent(name, vm);
  }, 60_000);
});
