// The sink's own-node watch against a real (private) Consul: a node our writes created that
// Consul does not have is a reset even when the watch never saw it, which is what happens when
// Consul restarts within moments of our first writes (seen under load: consul.restart.test.ts
// then waited for a re-registration that only the periodic resync would have made). And a node
// that is there causes none.
import { Value } from '@sinclair/typebox/value';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { watchOwnNodes } from '../../adapters/consul/own-nodes.ts';
import { PrivateConsul, consulApi } from './consul-support.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('consul own-node watch (private Consul)', () => {
  const consul = new PrivateConsul();
  const abort = new AbortController();
  afterAll(async () => {
    abort.abort();
    await consul.stop();
  });

  it('reports a written node Consul lacks as a reset, once, and a present one not at all', async () => {
    await consul.start();
    const opts = Value.Default(ConsulOptions, { address: consul.url, maxBackoffMs: 500 }) as ConsulOptions;
    const { client } = createConsul(opts, { registryId: 'consul', bridgeId: 'own-nodes-test', logger: SILENT_LOGGER });
    const base = 'isthmus-own-nodes-test';
    await consulApi(consul.url, 'PUT', '/v1/catalog/register', { Node: base, Address: '127.0.0.1' });

    // Present and written: no reset.
    const presentResets: number[] = [];
    const present = new AbortController();
    watchOwnNodes({ client, base, waitSeconds: 1, maxBackoffMs: 500, signal: present.signal, written: new Set([base]), onReset: () => presentResets.push(Date.now()) });
    await sleep(2500);
    present.abort();
    expect(presentResets).toEqual([]);

    // Written (as far as the sink knows) but gone, and never seen by this watch: one reset.
    const lost = `${base}_3`;
    const written = new Set([base, lost]);
    const resets: number[] = [];
    watchOwnNodes({ client, base, waitSeconds: 1, maxBackoffMs: 500, signal: abort.signal, written, onReset: () => resets.push(Date.now()) });
    await vi.waitFor(() => { expect(resets).toHaveLength(1); }, { timeout: 10_000, interval: 50 });
    expect(written.has(lost)).toBe(false);
    // Forgotten once reported, so later answers do not reset again.
    await sleep(2500);
    expect(resets).toHaveLength(1);
  }, 60_000);
});
