import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/index.ts';
import type { AdapterKind } from '../ports/index.ts';
import { createLogger, parseConfig, type SignalSource } from '../runtime/index.ts';
import { runBridge } from './run.ts';

const SILENT = createLogger({ level: 'silent' });

/** The memory kind, noting every source start. */
function watched(started: string[]): AdapterKind {
  return {
    ...memoryAdapter,
    create(options, ctx) {
      const adapter = memoryAdapter.create(options, ctx);
      const source = adapter.source;
      if (source === undefined) return adapter;
      const start = source.start.bind(source);
      source.start = (signal: AbortSignal) => { started.push(ctx.registryId); return start(signal); };
      return adapter;
    },
  };
}

const CONFIG = (extra = '') => `bridge: { id: b }
registries:
  vm:
    kind: memory
    services:
      - { namespace: shop, name: orders, endpoints: [ { address: 10.0.0.1, port: 80 }, { address: not-an-ip, port: 80 } ] }
  k8s: { kind: memory }
routes: [ { from: vm, to: k8s } ]
resolver:
  http: { port: 0 }
  grpc: { enabled: false }
${extra}`;

const signals = (): SignalSource => new EventEmitter() as EventEmitter & SignalSource;

describe('runBridge start-up', () => {
  it('reads the resolver token before any source starts', async () => {
    const started: string[] = [];
    const kinds = { memory: watched(started) };
    // parseConfig does not look at files, so the run is the first to meet the missing one.
    const config = parseConfig(CONFIG(`  auth: { tokenFile: "${join(tmpdir(), 'isthmus-no-such-token')}" }\n`), kinds, { env: {} });
    await expect(runBridge(config, kinds, { logger: SILENT, signals: signals() })).rejects.toMatchObject({ code: 'ISTHMUS_CONFIG_UNREADABLE' });
    expect(started).toEqual([]);
  });

  it('a stop asked for before it was up ends the run instead of being missed', async () => {
    const kinds = { memory: memoryAdapter };
    const stop = new AbortController();
    stop.abort();
    const run = runBridge(parseConfig(CONFIG(), kinds, { env: {} }), kinds, { logger: SILENT, signal: stop.signal, signals: signals() });
    const outcome = await Promise.race([run.then(() => 'stopped'), new Promise((resolve) => setTimeout(() => { resolve('still running'); }, 5000))]);
    expect(outcome).toBe('stopped');
  });

  it('exposes quarantined records on /metrics, as /v1/status lists them', async () => {
    const kinds = { memory: memoryAdapter };
    const stop = new AbortController();
    let url = '';
    const run = runBridge(parseConfig(CONFIG(), kinds, { env: {} }), kinds, { logger: SILENT, signal: stop.signal, signals: signals(), onListening: (u) => { url = u; } });
    try {
      await expect.poll(() => url).not.toBe('');
      await expect.poll(async () => {
        const status = await (await fetch(`${url}/v1/status`)).json() as { quarantined: unknown[] };
        return status.quarantined.length;
      }).toBe(1);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('isthmus_quarantined_records{registry="vm"} 1');
    } finally {
      stop.abort();
      await run;
    }
  });

  it('exposes leadership, source reachability, hold age and resolver traffic on /metrics', async () => {
    const kinds = { memory: memoryAdapter };
    const stop = new AbortController();
    let url = '';
    const config = parseConfig(CONFIG().replace('grpc: { enabled: false }', 'grpc: { enabled: true, port: 0, host: 127.0.0.1 }'), kinds, { env: {} });
    const run = runBridge(config, kinds, { logger: SILENT, signal: stop.signal, signals: signals(), onListening: (u) => { url = u; } });
    try {
      await expect.poll(() => url).not.toBe('');
      await expect.poll(async () => (await fetch(`${url}/v1/services/shop/orders`)).status).toBe(200);
      expect((await fetch(`${url}/v1/services/shop/nothing`)).status).toBe(404);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      // Without an elector this replica is the writer.
      expect(metrics).toMatch(/^isthmus_leader 1$/m);
      expect(metrics).toMatch(/^isthmus_leader_changes_total 0$/m);
      expect(metrics).toContain('isthmus_source_reachable{registry="vm"} 1');
      expect(metrics).toMatch(/^isthmus_held_oldest_seconds 0$/m);
      expect(metrics).toMatch(/^isthmus_resolver_requests_total\{transport="http",outcome="ok"\} [1-9]/m);
      expect(metrics).toContain('isthmus_resolver_requests_total{transport="http",outcome="client_error"} 1');
      expect(metrics).toContain('isthmus_resolver_requests_total{transport="grpc",outcome="ok"} 0');
      expect(metrics).toContain('isthmus_resolver_watchers{transport="grpc"} 0');
    } finally {
      stop.abort();
      await run;
    }
  });
});
