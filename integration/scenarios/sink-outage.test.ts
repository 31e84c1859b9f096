// A Consul that refuses us (403) and one that accepts connections and never answers: the engine
// must back off as a whole, one request in flight, instead of polling every 100 ms, and log a
// handful of lines. The "registry" is a plain HTTP server on loopback that counts what it gets;
// the client is the real Consul adapter.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { describe, it } from 'vitest';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine, type EngineLogger } from '../../bridge/sync/index.ts';

const WINDOW_MS = 15_000;

interface Counting {
  readonly server: Server;
  readonly url: string;
  requests: number;
  readonly sockets: Set<Socket>;
  peakOpen: number;
}

async function registry(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Counting> {
  const server = createServer();
  const c: Counting = { server, url: '', requests: 0, sockets: new Set(), peakOpen: 0 };
  server.on('connection', (s) => {
    c.sockets.add(s);
    c.peakOpen = Math.max(c.peakOpen, c.sockets.size);
    s.on('close', () => c.sockets.delete(s));
  });
  server.on('request', (req, res) => {
    c.requests++;
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
  const a = server.address();
  return Object.assign(c, { url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}` });
}

function countingLogger(): { logger: EngineLogger; lines: string[] } {
  const lines: string[] = [];
  const add = (_f: object, msg: string): void => { lines.push(msg); };
  return { logger: { debug: () => undefined, info: add, warn: add, error: add }, lines };
}

// The two modes share nothing (each its own fake registry, engine and clock-bound window) and
// mostly sit idle in backoff, so they run side by side: the file takes one window, not two.
describe.concurrent('a refusing or silent sink is backed off, not polled', () => {
  for (const mode of ['403', 'silent'] as const) {
    it(`${mode}: at most one request per backoff period`, async ({ expect, onTestFinished }) => {
      const fake = await registry((_req, res) => {
        if (mode === '403') {
          res.writeHead(403, { 'content-type': 'text/plain' });
          res.end('Permission denied: token with AccessorID lacks permission');
        }
        // silent: never answer; the client's timeout ends the request
      });
      const abort = new AbortController();
      const vm = new MemoryRegistry();
      for (let i = 1; i <= 20; i++) vm.putEndpoint({ namespace: 'default', name: `svc-${i}` }, { address: `10.3.0.${i}`, ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: `i-${i}` } });
      const source = new MemorySource('vm', vm);
      await source.start(abort.signal);
      const { logger, lines } = countingLogger();
      const opts = Value.Default(ConsulOptions, { address: fake.url, services: [], requestTimeoutMs: 2000, maxBackoffMs: 5000 }) as ConsulOptions;
      const { sink } = createConsul(opts, { registryId: 'consul', bridgeId: 'outage', logger });
      await sink.start(abort.signal);
      const engine = new Engine({ bridgeId: 'outage', sources: [source], sinks: [sink], routes: [{ id: 'vm->consul', from: ['vm'], to: 'consul', select: {}, map: {}, policy: DEFAULT_POLICY }], logger, retry: { baseMs: 200, maxMs: 5000 } });
      onTestFinished(async () => {
        await engine.stop();
        abort.abort();
        for (const s of fake.sockets) s.destroy();
        await new Promise((r) => fake.server.close(r));
      });
      engine.start();
      await new Promise((r) => setTimeout(r, WINDOW_MS));
      const figure = { figure: 'sink-outage-requests', mode, windowMs: WINDOW_MS, requests: fake.requests, peakOpenConnections: fake.peakOpen, logLines: lines.length };
      console.log(JSON.stringify(figure));
      // Engine probes back off 0.2, 0.4 … 5 s (≈ 8 in 15 s) and the sink's own-node watch backs
      // off to 5 s on its own (≈ 5): before, the gate alone sent 10 requests a second.
      expect(fake.requests).toBeLessThanOrEqual(20);
      expect(fake.peakOpen).toBeLessThanOrEqual(4);
      expect(lines.length).toBeLessThanOrEqual(8);
      expect(engine.synced()).toBe(false);
    }, WINDOW_MS + 30_000);
  }
});
