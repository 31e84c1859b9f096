// The Consul source with default options (`services: ['*']`) over 300 native services on the
// real agent: everything imported within a fixed connection budget (no blocking query per
// service, so no 429 from http_max_conns_per_client), services only a bridge wrote never read,
// a check flip seen at once with a read of that one service, an instance without checks seen
// within seconds by a sweep.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { BridgeError } from '../../bridge/errors/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulClient, ConsulOptions, ConsulSource, importSettings } from '../../adapters/consul/index.ts';
import type { ReadOptions, ReadResult, TxnOp } from '../../adapters/consul/client.ts';
import { consulApi, runId, sharedConsulUrl } from './consul-support.ts';

const NATIVE = 300;
const OWNED = 40;
const WAIT = { timeout: 60_000, interval: 20 };

/** Counts what is in flight, blocking or not, and every 429. */
class CountingClient extends ConsulClient {
  blocking = 0;
  maxBlocking = 0;
  inFlight = 0;
  maxInFlight = 0;
  tooMany = 0;
  readonly paths: string[] = [];

  override async read<T>(path: string, o: ReadOptions = {}): Promise<ReadResult<T>> {
    const blocking = (o.index ?? 0) > 0;
    this.paths.push(path);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (blocking) this.maxBlocking = Math.max(this.maxBlocking, ++this.blocking);
    try {
      return await super.read<T>(path, o);
    } catch (err) {
      if (err instanceof BridgeError && (err.details as { status?: number } | undefined)?.status === 429) this.tooMany++;
      throw err;
    } finally {
      this.inFlight--;
      if (blocking) this.blocking--;
    }
  }
}

describe('consul source, index-driven mode on the real agent', () => {
  const run = runId();
  const nativeNode = `native-${run}`;
  const ownNode = `isthmus-own-${run}`;
  const abort = new AbortController();
  let base = '';

  beforeAll(async () => {
    base = await sharedConsulUrl();
    const ops: TxnOp[] = [];
    for (let i = 0; i < NATIVE; i++) {
      const id = `ix-${run}-${i}`;
      ops.push({ Service: { Verb: 'set', Node: nativeNode, Service: { ID: id, Service: id, Address: `10.50.${i >> 8}.${i & 255}`, Port: 8080 } } });
      ops.push({ Check: { Verb: 'set', Check: { Node: nativeNode, CheckID: `c-${id}`, Name: 'app', Status: 'passing', ServiceID: id, ServiceName: id } } });
    }
    // What a bridge exports: only bridge records under these names, so never read by the source.
    for (let i = 0; i < OWNED; i++) {
      const id = `ix-own-${run}-${i}`;
      ops.push({ Service: { Verb: 'set', Node: ownNode, Service: { ID: id, Service: id, Tags: ['isthmus'], Address: '10.51.0.1', Port: 80, Meta: { 'external-source': 'isthmus', 'isthmus-managed-by': `b-${run}` } } } });
    }
    await consulApi(base, 'PUT', '/v1/catalog/register', { Node: nativeNode, Address: '10.50.255.1' });
    await consulApi(base, 'PUT', '/v1/catalog/register', { Node: ownNode, Address: '127.0.0.1', NodeMeta: { 'external-source': 'isthmus' } });
    for (let at = 0; at < ops.length; at += 60) await consulApi(base, 'PUT', '/v1/txn', ops.slice(at, at + 60));
  });

  afterAll(async () => {
    abort.abort();
    await consulApi(base, 'PUT', '/v1/catalog/deregister', { Node: nativeNode });
    await consulApi(base, 'PUT', '/v1/catalog/deregister', { Node: ownNode });
  });

  it(`imports ${NATIVE} services with at most six blocking queries, no 429, and follows a check flip`, async () => {
    const opts = Value.Default(ConsulOptions, { address: base }) as ConsulOptions;
    expect(opts.services).toEqual(['*']);
    const client = new CountingClient({ address: base, registry: 'consul' });
    const source = new ConsulSource('consul', client, { settings: importSettings(opts, 'consul'), waitSeconds: opts.waitSeconds, minWatchIntervalMs: opts.minWatchIntervalMs, maxBackoffMs: opts.maxBackoffMs, logger: SILENT_LOGGER });
    const t0 = Date.now();
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, WAIT);
    const syncMs = Date.now() - t0;
    const names = new Set([...source.keys()].map((r) => r.name));
    for (let i = 0; i < NATIVE; i++) expect(names.has(`ix-${run}-${i}`)).toBe(true);
    expect([...names].some((n) => n.startsWith(`ix-own-${run}`))).toBe(false);
    expect(client.paths.some((p) => p.includes(`ix-own-${run}`))).toBe(false);
    expect(source.mode()).toBe('index');
    expect(source.watchedServices()).toEqual([]);

    const ref = { namespace: 'default', name: `ix-${run}-7` };
    expect(source.get(ref)?.endpoints[0]?.ready).toBe(true);
    const readsBefore = client.paths.length;
    const flipped = Date.now();
    await consulApi(base, 'PUT', '/v1/txn', [{ Check: { Verb: 'set', Check: { Node: nativeNode, CheckID: `c-${ref.name}`, Name: 'app', Status: 'critical', ServiceID: ref.name, ServiceName: ref.name } } }]);
    await vi.waitFor(() => { expect(source.get(ref)?.endpoints[0]?.ready).toBe(false); }, WAIT);
    const flipMs = Date.now() - flipped;
    const flipReads = client.paths.slice(readsBefore).filter((p) => p.startsWith('/v1/health/service/'));

    // An instance without checks joins a service and leaves again: no check moves and the list
    // stays the same. On a node new to the source only a sweep sees it, and it must come within
    // seconds, not the 30 s kept for sweeps that our own writes may have caused; once the node
    // is known, its listing is watched and names the service at once.
    const bare = { namespace: 'default', name: `ix-${run}-9` };
    const bareNode = `bare-${run}`;
    const joined = Date.now();
    const beforeJoin = client.paths.length;
    await consulApi(base, 'PUT', '/v1/catalog/register', { Node: bareNode, Address: '10.52.0.1', Service: { ID: `${bare.name}-bare`, Service: bare.name, Address: '10.52.0.9', Port: 8080 } });
    await vi.waitFor(() => { expect(source.get(bare)?.endpoints).toHaveLength(2); }, { timeout: 10_000, interval: 20 });
    const bareJoinMs = Date.now() - joined;
    // The sweep reads the node list and listings (node-scan.ts), then the named service: not all 300.
    const joinPaths = client.paths.slice(beforeJoin);
    const sweepReads = joinPaths.filter((p) => p.startsWith('/v1/health/service/')).length;
    const left = Date.now();
    await consulApi(base, 'PUT', '/v1/catalog/deregister', { Node: bareNode, ServiceID: `${bare.name}-bare` });
    await vi.waitFor(() => { expect(source.get(bare)?.endpoints).toHaveLength(1); }, { timeout: 10_000, interval: 20 });
    const bareLeaveMs = Date.now() - left;
    await consulApi(base, 'PUT', '/v1/catalog/deregister', { Node: bareNode });

    console.log(JSON.stringify({ figure: 'consul-index-mode', services: NATIVE, syncMs, flipMs, flipServiceReads: flipReads.length, bareJoinMs, bareLeaveMs, sweepReads, maxBlocking: client.maxBlocking, maxInFlight: client.maxInFlight, status429: client.tooMany }));
    expect(client.tooMany).toBe(0);
    // Two global blocking queries and four node listings (node-watch.ts), plus eight reads at
    // most, whatever the number of services.
    expect(client.maxBlocking).toBeLessThanOrEqual(6);
    expect(client.maxInFlight).toBeLessThanOrEqual(14);
    expect(new Set(flipReads)).toEqual(new Set([`/v1/health/service/${ref.name}`]));
    expect(joinPaths).toContain('/v1/catalog/nodes');
    expect(sweepReads).toBeLessThan(NATIVE / 10);

    // Deregistered natives go from the cache on the next list, without a read each.
    await consulApi(base, 'PUT', '/v1/catalog/deregister', { Node: nativeNode });
    await vi.waitFor(() => { expect([...source.keys()].some((r) => r.name.startsWith(`ix-${run}-`))).toBe(false); }, WAIT);
  });
});
