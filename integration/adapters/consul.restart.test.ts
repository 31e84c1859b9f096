// Consul in dev mode loses everything on restart. The bridge notices (its node watch sees the
// node gone or the index go backwards), re-registers exactly what it owns, and leaves the
// services others registered alone.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { PrivateConsul, consulApi } from './consul-support.ts';

describe('consul restart (dev mode, state lost)', () => {
  const consul = new PrivateConsul();
  const abort = new AbortController();
  let engine: Engine | undefined;

  afterAll(async () => {
    await engine?.stop();
    abort.abort();
    await consul.stop();
  });

  const ref = (i: number): ServiceRef => ({ namespace: 'default', name: `restart-${i}` });
  const endpoint = (i: number, j: number): Endpoint => ({
    address: `10.40.${i}.${j + 1}`,
    ports: { http: 80 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry: 'k8s', nativeId: `${i}/${j}` },
  });
  const passing = async (name: string): Promise<number> => (await consulApi<unknown[]>(consul.url, 'GET', `/v1/health/service/${name}?passing`)).length;

  it('re-registers what it owns after Consul comes back empty, touching nothing else', async () => {
    await consul.start();
    const vm = new MemoryRegistry();
    for (const i of [1, 2]) for (const j of [0, 1, 2]) vm.putEndpoint(ref(i), endpoint(i, j));
    const source = new MemorySource('k8s', vm);
    await source.start(abort.signal);
    const opts = Value.Default(ConsulOptions, { address: consul.url, maxBackoffMs: 500 }) as ConsulOptions;
    const { client, sink } = createConsul(opts, { registryId: 'consul', bridgeId: 'restart-bridge', logger: SILENT_LOGGER });
    await sink.start(abort.signal);
    const e = new Engine({
      bridgeId: 'restart-bridge',
      sources: [source],
      sinks: [sink],
      routes: [{ id: 'k8s->consul', from: ['k8s'], to: 'consul', select: {}, map: {}, policy: DEFAULT_POLICY }],
      quietMs: 5,
      maxDelayMs: 50,
      retry: { baseMs: 100, maxMs: 1000 },
    });
    engine = e;
    // The engine subscribes to the sink's reset signal itself (Sink.onReset).
    e.start();
    await e.whenIdle();
    expect(await passing('restart-1')).toBe(3);

    const before = client.writes;
    await consul.restart();
    // Another application registers while the bridge recovers: it must survive untouched.
    await consulApi(consul.url, 'PUT', '/v1/agent/service/register', { ID: 'native-1', Name: 'restart-1', Address: '10.99.0.1', Port: 80 });
    const restarted = Date.now();
    await vi.waitFor(async () => {
      expect(await passing('restart-1')).toBe(4);
      expect(await passing('restart-2')).toBe(3);
    }, { timeout: 30_000, interval: 100 });
    console.log(JSON.stringify({ figure: 'consul-restart-reregistration', ms: Date.now() - restarted, writes: client.writes - before }));
    const native = await consulApi<{ ServiceID: string }[]>(consul.url, 'GET', '/v1/catalog/service/restart-1?filter=' + encodeURIComponent('ServiceID == "native-1"'));
    expect(native).toHaveLength(1);
    expect(client.writes - before).toBeLessThanOrEqual(4);
  });
});
