// The source with a scripted API (no server): objects the real API server cannot even hold
// (a Service named "a/b", an empty name, broken endpoint entries) are quarantined with a reason
// and left out, while every other Service keeps flowing. The real-server counterpart only shows
// that such names are refused (kubernetes.health.test.ts).
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refProblem } from '../../bridge/model/index.ts';
import type { KubeClient, Resource, WatchEventType } from './client.ts';
import { K8S } from './markers.ts';
import { KubernetesOptions } from './options.ts';
import { KubernetesSource } from './source.ts';
import type { KEndpointSlice, KService } from './types.ts';

function service(namespace: string, name: string): KService {
  return { metadata: { namespace, name, resourceVersion: '1' }, spec: { ports: [{ name: 'http', port: 80 }] } };
}

function slice(namespace: string, service: string, endpoints: NonNullable<KEndpointSlice['endpoints']>): KEndpointSlice {
  return { metadata: { namespace, name: `${service}-x`, resourceVersion: '1', labels: { [K8S.serviceName]: service } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints };
}

/** A KubeClient stand-in that lists fixed objects and holds every watch open until aborted. */
function fakeClient(objects: Record<'services' | 'endpointslices', unknown[]>): KubeClient {
  return {
    list: (resource: Resource) => Promise.resolve({ items: resource === 'nodes' ? [] : objects[resource], resourceVersion: '1' }),
    watch: (_r: Resource, _ns: string | undefined, _rv: string, _on: (t: WatchEventType, o: unknown) => void, done: (err: unknown) => void) => Promise.resolve({ abort: () => { done(null); } }),
  } as unknown as KubeClient;
}

describe('KubernetesSource quarantine', () => {
  const abort = new AbortController();
  afterEach(() => { abort.abort(); });

  it('quarantines what cannot be a ref or an endpoint, with a reason, and keeps syncing the rest', async () => {
    const pods = [{ addresses: ['10.1.0.1'], conditions: { ready: false, serving: false, terminating: false } }, { addresses: ['10.1.0.2'], conditions: { ready: false, serving: true, terminating: true } }];
    const client = fakeClient({
      services: [service('shop', 'orders'), service('shop', 'a/b'), service('shop', ''), service('shop', 'broken')],
      endpointslices: [slice('shop', 'orders', pods), slice('shop', 'a/b', pods), slice('shop', 'broken', [null as unknown as { addresses: string[] }])],
    });
    const source = new KubernetesSource('k8s', client, Value.Default(KubernetesOptions, {}) as KubernetesOptions);
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); });

    expect([...source.keys()]).toEqual([{ namespace: 'shop', name: 'orders' }]);
    for (const ref of source.keys()) expect(refProblem(ref)).toBeUndefined();
    // Health is state: not-ready and draining pods arrive with their conditions, not dropped.
    expect(source.get({ namespace: 'shop', name: 'orders' })?.endpoints.map((e) => [e.address, e.ready, e.serving, e.terminating])).toEqual([
      ['10.1.0.1', false, false, false],
      ['10.1.0.2', false, true, true],
    ]);
    const reasons = Object.fromEntries(source.quarantined().map((q) => [q.nativeId, q.reason]));
    expect(reasons['shop/a/b']).toMatch(/contains "\/"/);
    expect(reasons['shop/']).toBe('service name is empty');
    expect(reasons['shop/broken']).toMatch(/^cannot convert the Service/);
    expect(source.quarantined().every((q) => q.registry === 'k8s' && q.since > 0)).toBe(true);
  });
});
