import { MemoryRegistry, MemorySink, MemorySource } from '../adapters/memory/index.ts';
import type { Endpoint, Route, ServiceRef } from '../bridge/model/index.ts';
import { DEFAULT_POLICY, endpointKey, refKey } from '../bridge/model/index.ts';
import { Engine } from '../bridge/sync/index.ts';
import { percentile, round, rssSampler } from './stats.ts';

export interface EngineBenchOptions {
  readonly services: number;
  readonly endpoints: number;
  readonly changes: number;
  readonly churn: number;
  readonly idleSeconds: number;
  readonly progress: (line: string) => void;
}

function endpoint(i: number, port = 8080, extra: Partial<Endpoint> = {}): Endpoint {
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return {
    address,
    ports: { http: port },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    zone: `zone-${i % 3}`,
    metadata: { version: 'v1' },
    origin: { registry: 'vm', nativeId: `${address}:${port}` },
    ...extra,
  };
}

/**
 * The engine alone, on memory registries, at DESIGN §12 scale: a VM registry of `services`
 * services and `endpoints` endpoints synced into a second registry. Prints the figures of issue 2.
 */
export async function benchEngine(o: EngineBenchOptions): Promise<Record<string, unknown>> {
  const rss = rssSampler();
  const vm = new MemoryRegistry();
  const k8s = new MemoryRegistry();
  const refs: ServiceRef[] = Array.from({ length: o.services }, (_, s) => ({ namespace: 'bench', name: `svc-${s}` }));
  for (let i = 0; i < o.endpoints; i++) vm.putEndpoint(refs[i % o.services]!, endpoint(i));
  o.progress(`seeded ${o.services} services / ${o.endpoints} endpoints`);

  const abort = new AbortController();
  const source = new MemorySource('vm', vm);
  await source.start(abort.signal);
  const sink = new MemorySink('k8s', k8s, 'bench');
  const route: Route = { id: 'vm->k8s', from: ['vm'], to: 'k8s', select: {}, map: {}, policy: DEFAULT_POLICY };
  const engine = new Engine({ bridgeId: 'bench', sources: [source], sinks: [sink], routes: [route] });

  const t0 = performance.now();
  engine.start();
  await engine.whenIdle();
  const convergenceSeconds = (performance.now() - t0) / 1000;
  o.progress(`converged in ${round(convergenceSeconds)} s (${k8s.writes} writes)`);

  // Single-change propagation: one endpoint changes, time until the target registry has it.
  const latencies: number[] = [];
  for (let c = 0; c < o.changes; c++) {
    const ref = refs[(c * 7919) % o.services]!;
    const seen = new Promise<void>((resolve) => {
      const off = k8s.onChange((r) => {
        if (refKey(r) === refKey(ref)) {
          off();
          resolve();
        }
      });
    });
    const start = performance.now();
    vm.putEndpoint(ref, endpoint(o.endpoints + c, 9090));
    await seen;
    latencies.push(performance.now() - start);
  }
  await engine.whenIdle();
  o.progress(`propagation over ${o.changes} single changes: p50 ${round(percentile(latencies, 50))} ms`);

  // Rolling restart: each pod drains, goes away, and a replacement comes up with a new address.
  const writesBefore = k8s.writes;
  let changed = 0;
  const churn = Math.min(o.churn, o.endpoints);
  for (let i = 0; i < churn; i++) {
    const ref = refs[i % o.services]!;
    const old = endpoint(i);
    vm.putEndpoint(ref, { ...old, ready: false, terminating: true });
    vm.deleteEndpoint(ref, endpointKey(old));
    vm.putEndpoint(ref, endpoint(o.endpoints + o.changes + i));
    changed += 3;
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await engine.whenIdle();
  const churnWrites = k8s.writes - writesBefore;
  o.progress(`rolling restart of ${churn} endpoints: ${churnWrites} writes for ${changed} endpoint changes`);

  // Idle CPU after convergence, with the RSS sampler paused so it measures the engine alone.
  const peakBeforeIdle = rss.stop();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await new Promise((r) => setTimeout(r, o.idleSeconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const idleCpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100;

  await engine.stop();
  abort.abort();
  const peakRssMb = Math.max(peakBeforeIdle, process.memoryUsage().rss / (1024 * 1024));
  return {
    services: o.services,
    endpoints: o.endpoints,
    convergenceSeconds: round(convergenceSeconds, 3),
    propagation: { p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), samples: latencies.length },
    writesPerChangedEndpoint: round(churnWrites / changed, 3),
    rollingRestart: { pods: churn, endpointChanges: changed, writes: churnWrites },
    peakRssMb: round(peakRssMb, 1),
    idleCpuPercent: round(idleCpuPercent, 3),
    note: 'memory adapters on both sides; RSS includes both in-memory registries, not only the bridge',
  };
}
