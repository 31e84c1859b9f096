import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { NacosNamingClient } from './client.ts';
import type { NacosInstance, NacosName, ServiceInfo } from './native.ts';
import { NacosSink, type NacosSinkOptions } from './sink.ts';

/**
 * A stand-in for the naming client that keeps what each "connection" published, as Nacos does.
 * `server` holds what other writers put there (listed by queries alongside ours).
 */
function fakeClient(): {
  client: NacosNamingClient;
  calls: string[];
  published: Map<string, NacosInstance[]>;
  server: Map<string, NacosInstance[]>;
  reconnect: () => void;
  reject: { next: string | undefined };
} {
  const calls: string[] = [];
  const published = new Map<string, NacosInstance[]>();
  const server = new Map<string, NacosInstance[]>();
  const connected: (() => void)[] = [];
  const reject = { next: undefined as string | undefined };
  const fail = (): void => {
    const message = reject.next;
    reject.next = undefined;
    if (message !== undefined) throw new BridgeError('ISTHMUS_REGISTRY_REJECTED', message);
  };
  const connection = {
    onConnected: (l: () => void) => { connected.push(l); },
    onPush: () => undefined,
    start: () => undefined,
  };
  const client = {
    connection,
    query: (n: NacosName): Promise<ServiceInfo> => {
      calls.push(`query ${n.service}`);
      return Promise.resolve({ hosts: [...(server.get(n.service) ?? []), ...(published.get(n.service) ?? [])] });
    },
    subscribe: (n: NacosName) => { calls.push(`subscribe ${n.service}`); return Promise.resolve({ hosts: [] }); },
    unsubscribe: () => Promise.resolve(),
    batchRegister: (n: NacosName, instances: NacosInstance[]) => {
      calls.push(`batch ${n.service} ${instances.length}`);
      fail();
      published.set(n.service, instances);
      return Promise.resolve();
    },
    registerPersistent: (n: NacosName, i: NacosInstance) => {
      calls.push(`register ${n.service} ${i.ip}`);
      fail();
      server.set(n.service, [...(server.get(n.service) ?? []).filter((h) => h.ip !== i.ip), { ...i, healthy: true }]);
      return Promise.resolve();
    },
    deregisterPersistent: (n: NacosName, i: NacosInstance) => {
      calls.push(`deregister ${n.service} ${i.ip}`);
      server.set(n.service, (server.get(n.service) ?? []).filter((h) => h.ip !== i.ip));
      return Promise.resolve();
    },
    listServices: () => Promise.resolve([...new Set([...published.keys(), ...server.keys()])]),
  } as unknown as NacosNamingClient;
  return { client, calls, published, server, reject, reconnect: () => { published.clear(); for (const l of connected) l(); } };
}

function ep(i: number, extra: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.0.0.${i}`, ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `p${i}` }, ...extra };
}

const REF = { namespace: 'default', name: 'orders' };

function snap(eps: Endpoint[]): ServiceSnapshot {
  return { ref: REF, ports: [{ name: 'http', port: 80 }], endpoints: eps, metadata: {}, origin: 'k8s' };
}

const options: NacosSinkOptions = { settings: { bridgeId: 'b', portName: 'http', cluster: 'DEFAULT', namespace: 'default' }, defaultGroup: 'DEFAULT_GROUP', mode: 'ephemeral', pageSize: 100 };

async function started(f: ReturnType<typeof fakeClient>, o: Partial<NacosSinkOptions> = {}): Promise<NacosSink> {
  const sink = new NacosSink('nacos', f.client, { ...options, ...o });
  await sink.start(new AbortController().signal);
  return sink;
}

const batches = (calls: string[]): string[] => calls.filter((c) => c.startsWith('batch'));

describe('nacos sink', () => {
  it('writes one batch per change, none when nothing changed, and withdraws with an empty batch', async () => {
    const f = fakeClient();
    const sink = await started(f);
    await sink.apply(snap([ep(1), ep(2)]));
    await sink.apply(snap([ep(2), ep(1)]));
    await sink.apply(snap([ep(1)]));
    await sink.remove(REF);
    expect(batches(f.calls)).toEqual(['batch orders 2', 'batch orders 1', 'batch orders 0']);
    expect(await sink.observe(REF)).toBeUndefined();
  });

  it('reads once per pass (none once published), and plan is pure: same answer twice, no request', async () => {
    const f = fakeClient();
    const sink = await started(f);
    await sink.apply(snap([ep(1)]));
    expect(f.calls).toEqual(['query orders', 'batch orders 1']);
    f.calls.length = 0;
    const state = await sink.read(REF);
    const want = snap([ep(1), ep(2)]);
    const first = sink.plan(state, want);
    expect(sink.plan(state, want)).toEqual(first);
    expect(first.operations).toEqual([{ verb: 'update', record: 'ephemeral set DEFAULT_GROUP@@orders (2 instances)' }]);
    expect(f.calls).toEqual([]);
    expect(sink.publishedCount()).toBe(1);
  });

  it('health is state: down and draining are one batch each, written, read back, then nothing', async () => {
    const f = fakeClient();
    const sink = await started(f);
    await sink.apply(snap([ep(1), ep(2)]));
    for (const [state, health] of [['down', { healthy: false, enabled: true }], ['draining', { healthy: true, enabled: false }], ['ready', { healthy: true, enabled: true }]] as const) {
      f.calls.length = 0;
      const want = snap([ep(1), ep(2, conditionsOf(state))]);
      await sink.apply(want);
      expect(batches(f.calls), state).toEqual(['batch orders 2']);
      expect(f.published.get('orders')?.find((i) => i.ip === '10.0.0.2'), state).toMatchObject(health);
      const seen = (await sink.observe(REF))?.endpoints.find((e) => e.address === '10.0.0.2');
      expect(seen && { ready: seen.ready, serving: seen.serving, terminating: seen.terminating }, state).toEqual(conditionsOf(state));
      expect(sink.plan(await sink.read(REF), want).operations, state).toEqual([]);
    }
  });

  it('a restart (new sink, same server) plans nothing for what the old connection still lists', async () => {
    const f = fakeClient();
    await (await started(f)).apply(snap([ep(1), ep(2, conditionsOf('down'))]));
    const again = await started(f);
    f.calls.length = 0;
    expect(again.plan(await again.read(REF), snap([ep(1), ep(2, conditionsOf('down'))])).operations).toEqual([]);
    // Another connection's instances are watched, so their loss is noticed; they are never withdrawn by us.
    expect(f.calls).toEqual(['query orders', 'subscribe orders']);
    expect(again.plan(await again.read(REF), undefined).operations).toEqual([]);
  });

  it('after adopt(), another connection\'s set no longer counts as held: it is published on ours', async () => {
    const f = fakeClient();
    await (await started(f)).apply(snap([ep(1)]));
    const next = await started(f);
    next.adopt();
    const plan = next.plan(await next.read(REF), snap([ep(1)]));
    expect(plan.operations).toEqual([{ verb: 'create', record: 'ephemeral set DEFAULT_GROUP@@orders (1 instance)' }]);
  });

  it('re-publishes everything on a new connection and asks for a resync', async () => {
    const f = fakeClient();
    const sink = await started(f);
    let resets = 0;
    sink.onReset(() => { resets++; });
    f.reconnect(); // the first connection
    await sink.apply(snap([ep(1), ep(2)]));
    f.reconnect(); // a new connection id: the server forgot our instances
    await new Promise((r) => setTimeout(r, 10));
    expect(f.published.get('orders')?.map((i) => i.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(resets).toBe(1);
  });

  it('auto mode follows a persistent service: one write per changed instance, server health verdict ignored', async () => {
    const f = fakeClient();
    f.server.set('orders', [{ ip: '192.168.0.1', port: 80, ephemeral: false, healthy: true, metadata: {} }]);
    const sink = await started(f, { mode: 'auto' });
    await sink.apply(snap([ep(1), ep(2)]));
    expect(f.calls.filter((c) => !c.startsWith('query'))).toEqual(['register orders 10.0.0.1', 'register orders 10.0.0.2']);
    // The server's own health check marks one unhealthy: not a difference we correct.
    f.server.set('orders', (f.server.get('orders') ?? []).map((i) => (i.ip === '10.0.0.2' ? { ...i, healthy: false } : i)));
    f.calls.length = 0;
    const plan = sink.plan(await sink.read(REF), snap([ep(1), ep(2)]));
    expect(plan.operations).toEqual([]);
    // Our own verdict is: a down endpoint is one update, a removed one one delete.
    const next = sink.plan(await sink.read(REF), snap([ep(2, conditionsOf('down'))]));
    expect(next.operations).toEqual([
      { verb: 'update', record: 'instance 10.0.0.2#80#DEFAULT#DEFAULT_GROUP@@orders' },
      { verb: 'delete', record: 'instance 10.0.0.1#80#DEFAULT#DEFAULT_GROUP@@orders' },
    ]);
    expect(f.calls.filter((c) => c.startsWith('subscribe'))).toEqual([]);
  });

  it('learns the real kind from a kind-mismatch refusal, so the retry writes the right kind', async () => {
    const f = fakeClient();
    const sink = await started(f, { mode: 'auto' });
    f.reject.next = "Current service DEFAULT_GROUP@@orders is persistent service, can't register ephemeral instance.";
    await expect(sink.apply(snap([ep(1)]))).rejects.toThrow(/persistent service/);
    await sink.apply(snap([ep(1)]));
    expect(f.calls.filter((c) => !c.startsWith('query'))).toEqual(['batch orders 1', 'register orders 10.0.0.1']);
  });
});
