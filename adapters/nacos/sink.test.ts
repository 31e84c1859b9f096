import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { NacosNamingClient } from './client.ts';
import type { NacosInstance, NacosName, ServiceInfo } from './native.ts';
import { NacosSink } from './sink.ts';

/** A stand-in for the naming client that keeps what each "connection" published, as Nacos does. */
function fakeClient(): { client: NacosNamingClient; calls: string[]; published: Map<string, NacosInstance[]>; reconnect: () => void } {
  const calls: string[] = [];
  const published = new Map<string, NacosInstance[]>();
  const connected: (() => void)[] = [];
  const connection = {
    onConnected: (l: () => void) => { connected.push(l); },
    onPush: () => undefined,
    start: () => undefined,
  };
  const client = {
    connection,
    query: (n: NacosName): Promise<ServiceInfo> => { calls.push(`query ${n.service}`); return Promise.resolve({ hosts: published.get(n.service) ?? [] }); },
    subscribe: () => Promise.resolve({ hosts: [] }),
    unsubscribe: () => Promise.resolve(),
    batchRegister: (n: NacosName, instances: NacosInstance[]) => { calls.push(`batch ${n.service} ${instances.length}`); published.set(n.service, instances); return Promise.resolve(); },
    listServices: () => Promise.resolve([...published.keys()]),
  } as unknown as NacosNamingClient;
  return { client, calls, published, reconnect: () => { published.clear(); for (const l of connected) l(); } };
}

function ep(i: number): Endpoint {
  return { address: `10.0.0.${i}`, ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `p${i}` } };
}

function snap(eps: Endpoint[]): ServiceSnapshot {
  return { ref: { namespace: 'default', name: 'orders' }, ports: [{ name: 'http', port: 80 }], endpoints: eps, metadata: {}, origin: 'k8s' };
}

describe('nacos sink', () => {
  const options = { settings: { bridgeId: 'b', portName: 'http', cluster: 'DEFAULT', namespace: 'default' }, defaultGroup: 'DEFAULT_GROUP', mode: 'ephemeral' as const, pageSize: 100 };

  it('writes one batch per change, none when nothing changed, and withdraws with an empty batch', async () => {
    const f = fakeClient();
    const sink = new NacosSink('nacos', f.client, options);
    await sink.start(new AbortController().signal);
    await sink.apply(snap([ep(1), ep(2)]));
    await sink.apply(snap([ep(2), ep(1)]));
    await sink.apply(snap([ep(1)]));
    await sink.remove({ namespace: 'default', name: 'orders' });
    expect(f.calls.filter((c) => c.startsWith('batch'))).toEqual(['batch orders 2', 'batch orders 1', 'batch orders 0']);
    expect(await sink.observe({ namespace: 'default', name: 'orders' })).toBeUndefined();
  });

  it('re-publishes everything on a new connection and asks for a resync', async () => {
    const f = fakeClient();
    const sink = new NacosSink('nacos', f.client, options);
    let resets = 0;
    sink.onReset(() => { resets++; });
    await sink.start(new AbortController().signal);
    f.reconnect(); // the first connection
    await sink.apply(snap([ep(1), ep(2)]));
    f.reconnect(); // a new connection id: the server forgot our instances
    await new Promise((r) => setTimeout(r, 10));
    expect(f.published.get('orders')?.map((i) => i.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(resets).toBe(1);
  });
});
