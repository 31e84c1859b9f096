// The Consul source against the real agent: a VM-registered instance whose check turns critical
// (or warning) is seen downstream as not ready (draining) and back, without going through the
// deletion guard; a service whose name the model refuses (`/`) is quarantined while the others
// keep syncing.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { consulApi, runId, sharedConsulUrl } from './consul-support.ts';

const WAIT = { timeout: 30_000, interval: 10 };

describe('consul source on the real agent', () => {
  const prefix = `src-${runId()}`;
  const registered: string[] = [];
  const abort = new AbortController();
  const engines: Engine[] = [];
  let base = '';

  beforeAll(async () => {
    base = await sharedConsulUrl();
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    abort.abort();
    for (const id of registered) await consulApi(base, 'PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
  });

  /** Registers as a VM application does, through the agent, with a TTL check we can flip. */
  async function register(name: string, id: string, address: string, port: number): Promise<void> {
    registered.push(id);
    await consulApi(base, 'PUT', '/v1/agent/service/register', { ID: id, Name: name, Address: address, Port: port, Check: { TTL: '10m', Status: 'passing' } });
  }

  async function bridge(services: string[]): Promise<{ source: ReturnType<typeof createConsul>['source']; target: MemoryRegistry }> {
    const opts = Value.Default(ConsulOptions, { address: base, services, minWatchIntervalMs: 0 }) as ConsulOptions;
    const { source } = createConsul(opts, { registryId: 'consul', bridgeId: 'src-bridge', logger: SILENT_LOGGER });
    await source.start(abort.signal);
    const target = new MemoryRegistry();
    const engine = new Engine({
      bridgeId: 'src-bridge',
      sources: [source],
      sinks: [new MemorySink('target', target, 'src-bridge')],
      routes: [{ id: 'consul->target', from: ['consul'], to: 'target', select: {}, map: {}, policy: DEFAULT_POLICY }],
      quietMs: 5,
      maxDelayMs: 50,
    });
    engines.push(engine);
    engine.start();
    return { source, target };
  }

  const endpointAt = (target: MemoryRegistry, ref: ServiceRef, address: string): Endpoint | undefined =>
    [...(target.service(ref)?.endpoints.values() ?? [])].find((e) => e.endpoint.address === address)?.endpoint;

  it('a critical check is not ready downstream at once, a warning is draining, passing is ready again', async () => {
    const name = `${prefix}-health`;
    const ref = { namespace: 'default', name };
    await register(name, `${name}-1`, '10.77.0.1', 8080);
    await register(name, `${name}-2`, '10.77.0.2', 8080);
    const { target } = await bridge([name]);
    await vi.waitFor(() => { expect(target.service(ref)?.endpoints.size).toBe(2); }, WAIT);

    const figures: Record<string, number> = {};
    for (const [verb, want] of [
      ['fail', { ready: false, serving: false, terminating: false }],
      ['warn', { ready: false, serving: true, terminating: true }],
      ['pass', { ready: true, serving: true, terminating: false }],
    ] as const) {
      const started = Date.now();
      await consulApi(base, 'PUT', `/v1/agent/check/${verb}/${encodeURIComponent(`service:${name}-1`)}?note=test`);
      await vi.waitFor(() => { expect(endpointAt(target, ref, '10.77.0.1')).toMatchObject(want); }, WAIT);
      figures[verb] = Date.now() - started;
      // Health is state: the instance stays in the target throughout, and the other is untouched.
      expect(target.service(ref)?.endpoints.size).toBe(2);
      expect(endpointAt(target, ref, '10.77.0.2')).toMatchObject({ ready: true });
    }
    console.log(JSON.stringify({ figure: 'consul-source-health-flip-to-target-ms', critical: figures['fail'], warning: figures['warn'], passing: figures['pass'], target: '<1000' }));
    for (const ms of Object.values(figures)) expect(ms).toBeLessThan(1000);
  });

  it('quarantines a service named with "/" and keeps syncing the others', async () => {
    const slash = `${prefix}-q-probe/slash`;
    const ok = `${prefix}-q-ok`;
    await register(slash, `${prefix}-slash-1`, '10.78.0.1', 8080);
    await register(ok, `${ok}-1`, '10.78.0.2', 8080);
    // Consul itself accepts the name: the catalog lists it.
    expect(Object.keys(await consulApi<Record<string, unknown>>(base, 'GET', '/v1/catalog/services'))).toContain(slash);
    const { source, target } = await bridge([`${prefix}-q-*`]);
    const okRef = { namespace: 'default', name: ok };
    await vi.waitFor(() => { expect(target.service(okRef)?.endpoints.size).toBe(1); }, WAIT);
    expect(source.hasSynced()).toBe(true);
    const q = source.quarantined().find((r) => r.nativeId === slash);
    expect(q).toMatchObject({ registry: 'consul', nativeId: slash });
    expect(q?.reason).toContain('contains "/"');
    expect(source.watchedServices()).not.toContain(slash);
    expect(target.services().map((s) => s.ref.name).sort()).toEqual([ok]);

    await register(ok, `${ok}-2`, '10.78.0.3', 8080);
    await vi.waitFor(() => { expect(target.service(okRef)?.endpoints.size).toBe(2); }, WAIT);
    // The quarantine keeps its first `since` while the reason holds.
    expect(source.quarantined().find((r) => r.nativeId === slash)?.since).toBe(q?.since);
  });
});
