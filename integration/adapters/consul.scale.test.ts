// Exporting 1,000 endpoints of 100 services into Consul: the number of HTTP writes, the time to
// converge, that every instance answers /v1/health/service/:name?passing, that a restart of the
// bridge writes nothing, and what a rolling change of 100 endpoints costs.
import { afterAll, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { shardFilter } from '../../adapters/consul/shards.ts';
import { consulApi, deregisterOwnNodes, runId, sharedConsulUrl } from './consul-support.ts';

const SERVICES = 100;
const PER_SERVICE = 10;

describe('consul sink at 1,000 endpoints', () => {
  const run = runId();
  const node = `isthmus-scale-${run}`;
  const engines: Engine[] = [];
  const aborts: AbortController[] = [];
  let base = '';

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    for (const a of aborts) a.abort();
    if (base !== '') await deregisterOwnNodes(base, node);
  });

  const ref = (i: number): ServiceRef => ({ namespace: 'shop', name: `scale-${run}-${i}` });
  const endpoint = (i: number, j: number, ready = true): Endpoint => ({
    address: `10.30.${i}.${j + 1}`,
    ports: { http: 8080 },
    ready,
    serving: true,
    terminating: !ready,
    weight: 100,
    zone: 'eu-1a',
    metadata: { 'app.kubernetes.io/name': `scale-${i}` },
    origin: { registry: 'k8s', nativeId: `shop/scale-${i}/${j}` },
  });

  async function bridge(vm: MemoryRegistry): Promise<{ engine: Engine; writes: () => number }> {
    const abort = new AbortController();
    aborts.push(abort);
    const source = new MemorySource('k8s', vm);
    await source.start(abort.signal);
    const opts = Value.Default(ConsulOptions, { address: base, nodeName: node }) as ConsulOptions;
    const { client, sink } = createConsul(opts, { registryId: 'consul', bridgeId: 'scale-bridge', logger: SILENT_LOGGER });
    await sink.start(abort.signal);
    const engine = new Engine({
      bridgeId: 'scale-bridge',
      sources: [source],
      sinks: [sink],
      routes: [{ id: 'k8s->consul', from: ['k8s'], to: 'consul', select: {}, map: {}, policy: DEFAULT_POLICY }],
      quietMs: 5,
      maxDelayMs: 50,
    });
    engines.push(engine);
    engine.start();
    return { engine, writes: () => client.writes };
  }

  it('exports in a bounded number of writes, restarts with zero, and rolls 100 endpoints in ≤100', async () => {
    base = await sharedConsulUrl();
    const vm = new MemoryRegistry();
    for (let i = 0; i < SERVICES; i++) for (let j = 0; j < PER_SERVICE; j++) vm.putEndpoint(ref(i), endpoint(i, j));

    const started = Date.now();
    const first = await bridge(vm);
    await first.engine.whenIdle();
    const convergeMs = Date.now() - started;
    const initialWrites = first.writes();

    for (let i = 0; i < SERVICES; i++) {
      const entries = await consulApi<unknown[]>(base, 'GET', `/v1/health/service/${ref(i).name}?passing`);
      expect(entries, ref(i).name).toHaveLength(PER_SERVICE);
    }

    await first.engine.stop();
    const second = await bridge(vm);
    await second.engine.whenIdle();
    const restartWrites = second.writes();

    const before = second.writes();
    const rollStarted = Date.now();
    for (let i = 0; i < SERVICES; i++) vm.putEndpoint(ref(i), endpoint(i, 0, false));
    await second.engine.whenIdle();
    const rollWrites = second.writes() - before;
    const rollMs = Date.now() - rollStarted;
    const warning = await consulApi<unknown[]>(base, 'GET', `/v1/health/state/warning?filter=${encodeURIComponent(shardFilter(node, 'Node'))}`);

    console.log(JSON.stringify({ figure: 'consul-export-1000-endpoints', services: SERVICES, endpoints: SERVICES * PER_SERVICE, initialWrites, convergeMs, restartWrites, rollChangedEndpoints: SERVICES, rollWrites, rollMs }));
    expect(initialWrites).toBeLessThanOrEqual(SERVICES + 10);
    expect(restartWrites).toBe(0);
    expect(rollWrites).toBeLessThanOrEqual(SERVICES);
    expect(warning).toHaveLength(SERVICES);
  });
});
