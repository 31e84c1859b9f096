// `npm run bench -- resolver`: the resolver's read path (DESIGN §12). The resolver runs here;
// the load runs in a child process (resolver-load.ts), so the figures are not flattered by
// sharing one event loop.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MemoryRegistry, MemorySource } from '../adapters/memory/index.ts';
import { Catalog } from '../bridge/catalog/index.ts';
import type { Endpoint, ServiceRef } from '../bridge/model/index.ts';
import { createHttpResolver, GrpcResolver, close, listen } from '../bridge/resolver/index.ts';
import type { StatusProvider } from '../bridge/sync/index.ts';
import { round } from './stats.ts';

export interface ResolverBenchOptions {
  readonly services: number;
  readonly endpointsPerService: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly streams: number;
  readonly progress: (line: string) => void;
}

export interface ResolverBenchResult {
  readonly http: { readonly requestsPerSecond: number; readonly p99Ms: number; readonly p50Ms: number; readonly concurrency: number; readonly requests: number };
  readonly grpc: { readonly resolvePerSecond: number; readonly p99Ms: number; readonly concurrency: number };
  readonly watch: { readonly streams: number; readonly fanoutMs: number; readonly received: number };
  readonly catalog: { readonly services: number; readonly endpoints: number };
}

const status: StatusProvider = {
  summary: () => ({ bridgeId: 'bench', leader: true, sources: [], routes: [], queueDepth: 0, held: [], quarantined: [], errors: [] }),
  explain: (ref) => ({ ref, sources: [], targets: [], quarantined: [] }),
};

function ep(i: number, j: number): Endpoint {
  return {
    address: `10.${(i >> 8) & 255}.${i & 255}.${j + 1}`,
    ports: { grpc: 50051 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry: 'mem', nativeId: `${i}-${j}` },
  };
}

interface Child {
  readonly lines: AsyncIterator<string>;
  readonly done: Promise<number | null>;
}

function load(args: string[]): Child {
  const script = fileURLToPath(new URL('./resolver-load.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { lines, done };
}

async function nextJson<T>(c: Child): Promise<T> {
  const line = await c.lines.next();
  if (line.done === true) throw new Error('load generator exited without a result');
  return JSON.parse(line.value) as T;
}

export async function benchResolver(o: ResolverBenchOptions): Promise<ResolverBenchResult> {
  const registry = new MemoryRegistry();
  for (let i = 0; i < o.services; i++) {
    const ref: ServiceRef = { namespace: 'bench', name: `svc-${i}` };
    for (let j = 0; j < o.endpointsPerService; j++) registry.putEndpoint(ref, ep(i, j));
  }
  const watched: ServiceRef = { namespace: 'bench', name: 'svc-watch' };
  registry.putEndpoint(watched, ep(65_000, 0));
  const source = new MemorySource('mem', registry);
  const stopSource = new AbortController();
  await source.start(stopSource.signal);
  const catalog = new Catalog([source]);
  catalog.start();
  const http = createHttpResolver({ catalog, status, health: () => ({ ok: true, reasons: [] }), logger: false });
  const url = await listen(http, { host: '127.0.0.1', port: 0 });
  const grpc = new GrpcResolver({ catalog });
  const port = await grpc.listen({ host: '127.0.0.1', port: 0 });
  o.progress(`catalog: ${o.services} services × ${o.endpointsPerService} endpoints; http ${url}, grpc :${port}`);

  try {
    o.progress(`HTTP cached lookups: ${o.concurrency} concurrent for ${o.seconds}s`);
    const h = load(['--mode', 'http', '--target', url, '--concurrency', String(o.concurrency), '--seconds', String(o.seconds)]);
    const httpResult = await nextJson<{ requestsPerSecond: number; p99Ms: number; p50Ms: number; requests: number }>(h);
    await h.done;

    o.progress(`gRPC Resolve: ${o.concurrency} concurrent for ${o.seconds}s`);
    const g = load(['--mode', 'grpc', '--target', `127.0.0.1:${port}`, '--concurrency', String(o.concurrency), '--seconds', String(o.seconds)]);
    const grpcResult = await nextJson<{ resolvePerSecond: number; p99Ms: number }>(g);
    await g.done;

    o.progress(`Watch fan-out: ${o.streams} streams`);
    const w = load(['--mode', 'watch', '--target', `127.0.0.1:${port}`, '--streams', String(o.streams)]);
    const ready = await w.lines.next();
    if (ready.value !== 'ready') throw new Error(`watch load generator said ${String(ready.value)}`);
    // Let the last first-messages settle so the change is the only thing in flight.
    await new Promise((r) => setTimeout(r, 200));
    const changedAt = performance.timeOrigin + performance.now();
    registry.putEndpoint(watched, ep(65_000, 1));
    const watchResult = await nextJson<{ streams: number; received: number; lastAt: number }>(w);
    await w.done;

    return {
      http: { ...httpResult, concurrency: o.concurrency },
      grpc: { resolvePerSecond: grpcResult.resolvePerSecond, p99Ms: grpcResult.p99Ms, concurrency: o.concurrency },
      watch: { streams: watchResult.streams, received: watchResult.received, fanoutMs: round(watchResult.lastAt - changedAt) },
      catalog: { services: o.services + 1, endpoints: o.services * o.endpointsPerService + 2 },
    };
  } finally {
    await grpc.close(1_000);
    await close(http);
    catalog.stop();
    stopSource.abort();
  }
}
