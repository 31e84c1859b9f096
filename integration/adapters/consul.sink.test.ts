// The Consul sink against the real agent: the shape of an instance (its ports) changing writes
// once and then nothing; a health flip is written in place as the check status Consul callers
// filter on (?passing), once, and then nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import { applyDesired } from '../../bridge/ports/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import type { ConsulClient, ConsulSink } from '../../adapters/consul/index.ts';
import { consulApi, deregisterOwnNodes, runId, sharedConsulUrl } from './consul-support.ts';

interface CatalogEntry { ServiceID: string; ServicePort: number; ServiceMeta: Record<string, string> }
interface HealthEntry { Service: { ID: string; Address: string }; Checks: { CheckID: string; Status: string }[] }

describe('consul sink on the real agent', () => {
  const run = runId();
  const node = `isthmus-sink-it-${run}`;
  const abort = new AbortController();
  let base = '';
  let client: ConsulClient;
  let sink: ConsulSink;

  beforeAll(async () => {
    base = await sharedConsulUrl();
    const opts = Value.Default(ConsulOptions, { address: base, nodeName: node }) as ConsulOptions;
    ({ client, sink } = createConsul(opts, { registryId: 'consul', bridgeId: 'sink-it', logger: SILENT_LOGGER }));
    await sink.start(abort.signal);
  });

  afterAll(async () => {
    abort.abort();
    if (base !== '') await deregisterOwnNodes(base, node);
  });

  const ref = (name: string) => ({ namespace: 'default', name: `sink-${run}-${name}` });
  const ep = (i: number, ports: Record<string, number> = { http: 8080 }, state: 'ready' | 'draining' | 'down' = 'ready'): Endpoint => ({
    address: `10.88.0.${i}`,
    ports,
    ...conditionsOf(state),
    weight: 100,
    metadata: {},
    origin: { registry: 'k8s', nativeId: `e${i}` },
  });
  const snap = (name: string, endpoints: Endpoint[]): ServiceSnapshot => ({ ref: ref(name), ports: [{ name: 'http', port: 8080 }], endpoints, metadata: {}, origin: 'k8s' });

  /** Applies, and returns the writes it took and the writes a second pass takes. */
  async function pass(want: ServiceSnapshot): Promise<{ writes: number; again: number; operations: string[] }> {
    const before = client.writes;
    const plan = await applyDesired(sink, want);
    const writes = client.writes - before;
    const next = sink.plan(await sink.read(want.ref), want);
    expect(next.operations).toEqual([]);
    const again = client.writes;
    await applyDesired(sink, want);
    return { writes, again: client.writes - again, operations: plan.operations.map((o) => `${o.verb} ${o.record}`) };
  }

  it('a port-only change writes once (one transaction) and the next pass writes nothing', async () => {
    const name = 'shape';
    expect(await pass(snap(name, [ep(1), ep(2)]))).toMatchObject({ writes: 1, again: 0 });

    // An extra port: the same instances (same id), their isthmus-ports Meta updated in place.
    const wider = await pass(snap(name, [ep(1, { http: 8080, admin: 9000 }), ep(2, { http: 8080, admin: 9000 })]));
    expect(wider).toMatchObject({ writes: 1, again: 0 });
    expect(wider.operations.every((o) => o.startsWith('update service isthmus-'))).toBe(true);
    const meta = await consulApi<CatalogEntry[]>(base, 'GET', `/v1/catalog/service/${ref(name).name}`);
    expect(meta.map((e) => e.ServiceMeta['isthmus-ports'])).toEqual(['admin=9000,http=8080', 'admin=9000,http=8080']);

    // The registered port itself: new ids, created and the old ones deleted in one atomic txn.
    const moved = await pass(snap(name, [ep(1, { http: 8081 }), ep(2, { http: 8081 })]));
    expect(moved).toMatchObject({ writes: 1, again: 0 });
    expect(moved.operations.map((o) => o.split(' ')[0])).toEqual(['create', 'create', 'delete', 'delete']);
    const ports = await consulApi<CatalogEntry[]>(base, 'GET', `/v1/catalog/service/${ref(name).name}`);
    expect(ports.map((e) => e.ServicePort)).toEqual([8081, 8081]);
    console.log(JSON.stringify({ figure: 'consul-sink-shape-change-writes', extraPort: wider.writes, portMove: moved.writes, nextPass: wider.again + moved.again }));
  });

  it('not-ready endpoints are written with their health, as one check update each, then nothing', async () => {
    const name = 'health';
    await pass(snap(name, [ep(1), ep(2)]));
    const passing = async (): Promise<number> => (await consulApi<unknown[]>(base, 'GET', `/v1/health/service/${ref(name).name}?passing`)).length;
    const status = async (i: number): Promise<string | undefined> => {
      const all = await consulApi<HealthEntry[]>(base, 'GET', `/v1/health/service/${ref(name).name}`);
      const entry = all.find((e) => e.Service.Address === `10.88.0.${i}`);
      return entry?.Checks.find((c) => c.CheckID === `service:${entry.Service.ID}`)?.Status;
    };
    expect(await passing()).toBe(2);
    for (const [state, want, callers] of [['down', 'critical', 1], ['draining', 'warning', 1], ['ready', 'passing', 2]] as const) {
      const flip = await pass(snap(name, [ep(1), ep(2, { http: 8080 }, state)]));
      expect(flip, state).toMatchObject({ writes: 1, again: 0 });
      expect(flip.operations, state).toEqual([expect.stringMatching(/^update check service:isthmus-[0-9a-f]{16} → /)]);
      expect(await status(2), state).toBe(want);
      // Kept in the catalog, with its health: Consul callers asking for ?passing skip it.
      expect((await consulApi<unknown[]>(base, 'GET', `/v1/catalog/service/${ref(name).name}`)).length, state).toBe(2);
      expect(await passing(), state).toBe(callers);
    }
  });
});
