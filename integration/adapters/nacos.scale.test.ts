// Exporting 1,000 endpoints of 100 services into Nacos over the gRPC protocol: time to converge,
// batch writes sent, and the steady-state request rate afterwards. What the `nacos` npm client
// (HTTP v1, one beat per instance) sends for comparison is `npm run bench -- nacos-npm`.
// Figures are printed as JSON lines; timings are never asserted (the box is shared).
import { afterAll, describe, expect, it } from 'vitest';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { createNacosSink, createNacosSource, nacosConnection } from '../../adapters/nacos/index.ts';
import { NativeApp, ctx, nacosOptions, runId, sharedNacos } from './nacos-support.ts';

const SERVICES = 100;
const PER_SERVICE = 10;
// Just over one list poll (10 s), so the window holds at least one poll and two keepalives: a
// longer window repeats the same cycle.
const STEADY_MS = Number(process.env.ISTHMUS_NACOS_STEADY_MS ?? 11_000);

describe('nacos at 1,000 exported endpoints', () => {
  const run = runId();
  const abort = new AbortController();
  const engines: Engine[] = [];
  const closers: (() => Promise<void> | void)[] = [];

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    abort.abort();
    for (const c of closers) await c();
  });

  const ref = (i: number): ServiceRef => ({ namespace: 'default', name: `scale-${run}-${i}` });
  const endpoint = (i: number, j: number): Endpoint => ({
    address: `10.40.${i}.${j + 1}`,
    ports: { http: 8080 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: { 'app.kubernetes.io/name': `scale-${i}` },
    origin: { registry: 'k8s', nativeId: `shop/scale-${i}/${j}` },
  });

  it('converges with one batch per service, then sends only keepalives and the list poll', async () => {
    const server = await sharedNacos();
    const pods = new MemoryRegistry();
    for (let i = 0; i < SERVICES; i++) for (let j = 0; j < PER_SERVICE; j++) pods.putEndpoint(ref(i), endpoint(i, j));
    const k8s = new MemorySource('k8s', pods);
    await k8s.start(abort.signal);
    // Defaults (keepalive 5 s, list poll 10 s), as a deployment would run.
    const o = nacosOptions(server, { keepaliveMs: 5000, relistIntervalMs: 10_000, services: [`scale-${run}-*`] });
    const sinkConn = nacosConnection(o, ctx('nacos', 'scale-bridge'));
    const sink = createNacosSink(o, ctx('nacos', 'scale-bridge'), sinkConn);
    await sink.start(abort.signal);
    const sourceConn = nacosConnection(o, ctx('nacos', 'scale-bridge'));
    const source = createNacosSource(o, ctx('nacos', 'scale-bridge'), sourceConn);
    await source.start(abort.signal);
    const app = new NativeApp(server);
    closers.push(() => { app.close(); });

    const started = Date.now();
    const engine = new Engine({
      bridgeId: 'scale-bridge',
      sources: [k8s, source],
      sinks: [sink],
      routes: [{ id: 'k8s->nacos', from: ['k8s'], to: 'nacos', select: {}, map: {}, policy: DEFAULT_POLICY }],
      quietMs: 5,
      maxDelayMs: 50,
    });
    engines.push(engine);
    engine.start();
    await engine.whenIdle();
    const applied = Date.now() - started;
    // Converged = every service lists all its instances to a reader on another connection.
    for (let i = 0; i < SERVICES; i++) {
      for (;;) {
        if ((await app.list(ref(i), 0)).length === PER_SERVICE) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const converged = Date.now() - started;
    const writes = sinkConn.writes;
    expect(writes).toBe(SERVICES);

    // The source found the new services on its next list poll and subscribed to each once; the
    // steady state starts after that.
    while (source.subscribedCount() < SERVICES) await new Promise((r) => setTimeout(r, 100));
    const byType: Record<string, number> = {};
    const request = sourceConn.request.bind(sourceConn);
    sourceConn.request = ((type: string, body: Record<string, unknown>, opt?: { write?: boolean }) => {
      byType[type] = (byType[type] ?? 0) + 1;
      return request(type, body, opt);
    });
    const before = { sink: sinkConn.requests, source: sourceConn.requests };
    await new Promise((r) => setTimeout(r, STEADY_MS));
    const sinkRate = (sinkConn.requests - before.sink) / (STEADY_MS / 1000);
    const sourceRate = (sourceConn.requests - before.source) / (STEADY_MS / 1000);
    console.log(JSON.stringify({ figure: 'nacos-export-1000', endpoints: SERVICES * PER_SERVICE, services: SERVICES, appliedMs: applied, convergedMs: converged, batchWrites: writes, steadyWindowMs: STEADY_MS, sinkRequestsPerSecond: sinkRate, sourceRequestsPerSecond: sourceRate, sourceRequestsByType: byType, sourceReachable: source.health().reachable }));
    expect(sinkConn.writes).toBe(writes);
  }, 300_000);
});
