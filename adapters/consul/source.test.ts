import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listenLoopback, type LoopbackHttp } from '../shared/testing/loopback-http.ts';
import { ConsulClient } from './client.ts';
import { ConsulSource } from './source.ts';

// A stand-in Consul on loopback: the catalog lists three services; health answers are released
// by the test, so "synced" and "unreachable" can be observed at the exact moment they change.
describe('ConsulSource', () => {
  let server: LoopbackHttp;
  let base = '';
  const requested: string[] = [];
  const heldHealth: { name: string; res: ServerResponse }[] = [];
  let failing = false;
  beforeAll(async () => {
    server = await listenLoopback((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      requested.push(url.pathname);
      if (failing) {
        res.writeHead(500).end('boom');
        return;
      }
      if (url.pathname === '/v1/catalog/services') {
        if (url.searchParams.has('index')) return; // block: nothing changes in this test
        res.writeHead(200, { 'x-consul-index': '5' }).end(JSON.stringify({ consul: [], 'orders-a': [], 'orders-b': ['v1'], 'orders-c/slash': [], billing: [] }));
        return;
      }
      const name = decodeURIComponent(url.pathname.replace('/v1/health/service/', ''));
      if (url.searchParams.has('index')) return;
      heldHealth.push({ name, res });
    });
    base = server.base;
  });
  afterAll(() => server.close());

  const entry = (name: string) => ({ Node: { Node: 'vm', Address: '10.0.0.1' }, Service: { ID: `${name}-1`, Service: name, Port: 80, Address: '10.0.0.2' }, Checks: [] });

  it('watches only selected services, syncs after every first health read, freezes when unreachable', async () => {
    const abort = new AbortController();
    const settings = { registry: 'c', namespace: 'default', portName: 'http', zoneMetaKey: 'zone', warningAs: 'draining' as const, importConsulK8s: false, services: ['orders-*'], tags: [], meta: {} };
    const source = new ConsulSource('c', new ConsulClient({ address: base }), { settings, waitSeconds: 1, minWatchIntervalMs: 0, maxBackoffMs: 200 });
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(heldHealth.map((h) => h.name).sort()).toEqual(['orders-a', 'orders-b']); });
    expect(source.watchedServices()).toEqual(['orders-a', 'orders-b']);
    // Consul accepts `/` in a service name; the model cannot carry it: quarantined, never watched.
    expect(source.quarantined()).toEqual([{ registry: 'c', nativeId: 'orders-c/slash', reason: expect.stringContaining('contains "/"') as string, since: expect.any(Number) as number }]);
    expect(source.hasSynced()).toBe(false);
    const first = heldHealth.shift()!;
    first.res.writeHead(200, { 'x-consul-index': '6' }).end(JSON.stringify([entry(first.name)]));
    await vi.waitFor(() => { expect(source.get({ namespace: 'default', name: first.name })?.endpoints).toHaveLength(1); });
    expect(source.hasSynced()).toBe(false);
    const second = heldHealth.shift()!;
    second.res.writeHead(200, { 'x-consul-index': '6' }).end('[]');
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); });
    expect(requested.some((p) => p.includes('billing') || p.endsWith('/consul') || p.includes('slash'))).toBe(false);
    expect([...source.keys()].map((r) => r.name)).toEqual([first.name]);

    failing = true;
    server.server.closeAllConnections(); // the blocking reads in flight break, as when Consul goes away
    await vi.waitFor(() => { expect(source.health().reachable).toBe(false); });
    expect(source.health().lastError).toContain('ISTHMUS_REGISTRY_UNREACHABLE');
    expect(source.get({ namespace: 'default', name: first.name })?.endpoints).toHaveLength(1);
    abort.abort();
  });
});
