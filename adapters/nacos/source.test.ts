import { describe, expect, it, vi } from 'vitest';
import type { NacosNamingClient } from './client.ts';
import { DisabledLookup } from './disabled.ts';
import type { NacosInstance, ServiceInfo } from './native.ts';
import { NacosSource } from './source.ts';

function inst(ip: string, extra: Partial<NacosInstance> = {}): NacosInstance {
  return { ip, port: 8080, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {}, ...extra };
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const settings = { registry: 'nacos', namespace: 'default', defaultGroup: 'DEFAULT_GROUP', groups: ['DEFAULT_GROUP'], services: ['*'], clusters: [], portName: 'http', zoneMetaKey: 'zone', metadata: {} };

/** A naming client over a fixed service list; `push` delivers a NotifySubscriberRequest body. */
function fakeSourceClient(services: string[], hosts: (service: string) => NacosInstance[]): { client: NacosNamingClient; subscribed: string[]; push: (body: Record<string, unknown>) => void } {
  const subscribed: string[] = [];
  const fake = { push: (_body: Record<string, unknown>): void => undefined };
  const connection = {
    onPush: (_type: string, l: (body: Record<string, unknown>) => void) => { fake.push = l; },
    onConnected: () => undefined,
    onDisconnected: () => undefined,
    start: () => undefined,
  };
  const client = {
    connection,
    listServices: () => Promise.resolve(services),
    subscribe: (n: { service: string }): Promise<ServiceInfo> => {
      subscribed.push(n.service);
      return Promise.resolve({ name: n.service, groupName: 'DEFAULT_GROUP', hosts: hosts(n.service) });
    },
    unsubscribe: () => Promise.resolve(),
  } as unknown as NacosNamingClient;
  return { client, subscribed, push: (body) => { fake.push(body); } };
}

describe('nacos source', () => {
  it('quarantines a service whose name the model cannot carry, never subscribes it, and keeps syncing the rest', async () => {
    const f = fakeSourceClient(['orders', 'team/orders', 'bad\u0007bell'], () => [inst('10.0.0.1')]);
    const source = new NacosSource('nacos', f.client, { settings, pageSize: 100, relistIntervalMs: 60_000 });
    const abort = new AbortController();
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); });
    expect([...source.keys()]).toEqual([{ namespace: 'default', name: 'orders' }]);
    expect(f.subscribed).toEqual(['orders']);
    expect(source.quarantined().map((q) => [q.nativeId, q.reason])).toEqual([
      ['DEFAULT_GROUP@@team/orders', 'service name "team/orders" contains "/", which the model reserves as the namespace/name separator'],
      ['DEFAULT_GROUP@@bad\u0007bell', 'service name "bad\\u0007bell" contains a control character'],
    ]);
    abort.abort();
  });

  it('an instance a push drops but the admin list shows disabled turns draining, and back', async () => {
    const f = fakeSourceClient(['orders'], () => [inst('10.0.0.1'), inst('10.0.0.2')]);
    let disabledNow: NacosInstance[] = [inst('10.0.0.2', { enabled: false })];
    const disabled = new DisabledLookup({ baseUrl: 'http://nacos/nacos', namespace: 'public', registry: 'nacos', requestTimeoutMs: 1000, fetch: () => Promise.resolve(json(200, { code: 0, data: disabledNow })) });
    const source = new NacosSource('nacos', f.client, { settings, disabled, pageSize: 100, relistIntervalMs: 60_000 });
    const abort = new AbortController();
    await source.start(abort.signal);
    const ref = { namespace: 'default', name: 'orders' };
    const states = (): string[] => (source.get(ref)?.endpoints ?? []).map((e) => `${e.address} ${e.ready ? 'ready' : e.serving ? 'draining' : 'down'}`);
    await vi.waitFor(() => { expect(states()).toEqual(['10.0.0.1 ready', '10.0.0.2 ready']); });
    const pushOf = (hosts: NacosInstance[]): Record<string, unknown> => ({ serviceInfo: { name: 'orders', groupName: 'DEFAULT_GROUP', hosts } });
    f.push(pushOf([inst('10.0.0.1')]));
    await vi.waitFor(() => { expect(states()).toEqual(['10.0.0.1 ready', '10.0.0.2 draining']); });
    // Another change while it stays disabled: still draining (asked again).
    f.push(pushOf([inst('10.0.0.1', { weight: 2 })]));
    await vi.waitFor(() => { expect(source.get(ref)?.endpoints[0]?.weight).toBe(200); });
    expect(states()).toEqual(['10.0.0.1 ready', '10.0.0.2 draining']);
    f.push(pushOf([inst('10.0.0.1'), inst('10.0.0.2')]));
    await vi.waitFor(() => { expect(states()).toEqual(['10.0.0.1 ready', '10.0.0.2 ready']); });
    // Really gone: the admin list no longer has it either.
    disabledNow = [];
    f.push(pushOf([inst('10.0.0.1')]));
    await vi.waitFor(() => { expect(states()).toEqual(['10.0.0.1 ready']); });
    expect(disabled.requests).toBe(3);
    abort.abort();
  });
});
