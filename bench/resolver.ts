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
import { answerOverGrpc, answerOverHttp, withBareGrpc, withBareHttp } from './baseline.ts';
import { percentile, round } from './stats.ts';

export type GrpcLoadClient = 'h2load' | 'h2' | 'grpc-js';

export interface ResolverBenchOptions {
  readonly services: number;
  readonly endpointsPerService: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly streams: number;
  /** Changes timed for Watch fan-out, one at a time. */
  readonly changes: number;
  /** Quiet time before each of those changes, so each is a first change after a quiet time. */
  readonly gapMs: number;
  /** HTTP/2 connections the gRPC load spreads over. */
  readonly channels: number;
  /**
   * The load client: h2load (nghttp2's, in C: the least CPU per call, so the figure is the
   * resolver's; HTTP/1.1 and gRPC), a lean Node one (HTTP/1.1 and HTTP/2), or grpc-js for gRPC
   * (the SDK's stack, itself CPU-bound) with the lean Node one for HTTP.
   */
  readonly client: GrpcLoadClient;
  readonly progress: (line: string) => void;
}

interface Rate {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface ResolverBenchResult {
  readonly http: Rate & { readonly concurrency: number; readonly client: string; readonly baseline: Rate };
  readonly grpc: { readonly resolvePerSecond: number; readonly p50Ms: number; readonly p99Ms: number; readonly concurrency: number; readonly client: string; readonly baseline: Rate };
  readonly watch: WatchFigures;
  readonly catalog: { readonly services: number; readonly endpoints: number };
  readonly load: string;
}

export interface WatchFigures {
  readonly streams: number;
  /** Changes that reached every stream; a change that did not is a missing sample, not a fast one. */
  readonly changes: number;
  readonly attempted: number;
  /** Null when a change never reached every stream. */
  readonly fanoutP50Ms: number | null;
  readonly fanoutP99Ms: number | null;
  readonly fanoutMaxMs: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const wallNow = (): number => performance.timeOrigin + performance.now();

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
  readonly finish: () => void;
}

function load(args: string[]): Child {
  const script = fileURLToPath(new URL('./resolver-load.ts', import.meta.url));
  // `node --cpu-prof … bench/main.ts` profiles the load generator too, to see which side is the bottleneck.
  const profile = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // The watch generator runs until its stdin ends; the others ignore it.
  return { lines, done, finish: () => { child.stdin.end(); } };
}

/** The next line, or undefined after `ms` (the child is then told to finish by the caller). */
async function lineWithin(c: Child, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => { resolve(undefined); }, ms); });
  const next = c.lines.next().then((l) => (l.done === true ? undefined : l.value));
  try {
    return await Promise.race([next, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function nextJson<T>(c: Child): Promise<T> {
  const line = await c.lines.next();
  if (line.done === true) throw new Error('load generator exited without a result');
  return JSON.parse(line.value) as T;
}

interface GrpcRate {
  readonly requests: number;
  readonly resolvePerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** One load phase in its own process: its single JSON line. */
async function runLoad<T>(args: string[]): Promise<T> {
  const c = load(args);
  const result = await nextJson<T>(c);
  await c.done;
  return result;
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
    const httpClient = o.client === 'h2load' ? 'h2load' : 'h2';
    const httpLoad = (at: string): Promise<Rate> =>
      runLoad<Rate>(['--mode', 'http', '--target', at, '--concurrency', String(o.concurrency), '--seconds', String(o.seconds), '--client', httpClient]);
    o.progress(`HTTP cached lookups (${httpClient}): ${o.concurrency} keep-alive connections, after a warm-up`);
    const httpResult = await httpLoad(url);
    o.progress(`  ${httpResult.requestsPerSecond} req/s, p99 ${httpResult.p99Ms} ms`);
    const httpBaseline = await withBareHttp(await answerOverHttp(url), (bare) => httpLoad(bare));
    o.progress(`  bare node:http, same answer bytes, same load: ${httpBaseline.requestsPerSecond} req/s, p99 ${httpBaseline.p99Ms} ms`);

    const grpcLoad = (at: string): Promise<GrpcRate> =>
      runLoad<GrpcRate>(['--mode', 'grpc', '--target', at, '--concurrency', String(o.concurrency), '--seconds', String(o.seconds), '--channels', String(o.channels), '--client', o.client]);
    o.progress(`gRPC Resolve (${o.client}): ${o.concurrency} concurrent, after a warm-up`);
    const grpcResult = await grpcLoad(`127.0.0.1:${port}`);
    o.progress(`  ${grpcResult.resolvePerSecond} calls/s, p99 ${grpcResult.p99Ms} ms`);
    const grpcBaseline = await withBareGrpc(await answerOverGrpc(`127.0.0.1:${port}`), (bare) => grpcLoad(bare));
    o.progress(`  bare node:http2, same answer bytes, same load: ${grpcBaseline.resolvePerSecond} calls/s, p99 ${grpcBaseline.p99Ms} ms`);

    o.progress(`Watch fan-out: ${o.streams} streams, ${o.changes} changes ${o.gapMs} ms apart`);
    const watch = await watchFanout(o, `127.0.0.1:${port}`, (j) => { registry.putEndpoint(watched, ep(65_000, j)); });

    return {
      http: { ...httpResult, concurrency: o.concurrency, client: httpClient, baseline: httpBaseline },
      grpc: {
        resolvePerSecond: grpcResult.resolvePerSecond,
        p50Ms: grpcResult.p50Ms,
        p99Ms: grpcResult.p99Ms,
        concurrency: o.concurrency,
        client: o.client,
        baseline: { requests: grpcBaseline.requests, requestsPerSecond: grpcBaseline.resolvePerSecond, p50Ms: grpcBaseline.p50Ms, p99Ms: grpcBaseline.p99Ms },
      },
      watch,
      catalog: { services: o.services + 1, endpoints: o.services * o.endpointsPerService + 1 },
      load: `separate process on the same machine; HTTP: ${httpClient} client, ${o.concurrency} keep-alive connections, no pipelining; gRPC: ${o.client} client, ${o.concurrency} calls in flight over ${o.channels} connections; each phase after an uncounted warm-up; baseline: a bare node server answering the same bytes under the same load`,
    };
  } finally {
    await grpc.close(1_000);
    await close(http);
    catalog.stop();
    stopSource.abort();
  }
}

/**
 * Times `o.changes` changes of the watched service one at a time, each after `o.gapMs` of quiet:
 * from the change until the last of the streams has it. The clock is the wall clock of both
 * processes (same machine).
 */
async function watchFanout(o: ResolverBenchOptions, target: string, change: (j: number) => void): Promise<WatchFigures> {
  const w = load(['--mode', 'watch', '--target', target, '--streams', String(o.streams), '--channels', String(o.channels)]);
  const fanouts: number[] = [];
  try {
    const ready = await lineWithin(w, 60_000);
    if (ready !== 'ready') throw new Error(`watch load generator said ${String(ready)}`);
    for (let c = 0; c < o.changes; c++) {
      await sleep(o.gapMs);
      const changedAt = wallNow();
      change(c + 1);
      const line = await lineWithin(w, 10_000);
      if (line === undefined) {
        o.progress(`change ${c} did not reach all ${o.streams} streams within 10 s; stopping`);
        break;
      }
      const got = JSON.parse(line) as { change: number; lastAt: number };
      if (got.change !== c) throw new Error(`watch load generator reported change ${got.change}, expected ${c}`);
      fanouts.push(got.lastAt - changedAt);
    }
  } finally {
    w.finish();
    await w.done;
  }
  const complete = fanouts.length === o.changes;
  const fig = (p: number): number | null => (complete ? round(percentile(fanouts, p)) : null);
  o.progress(`  fan-out over ${fanouts.length} changes: p50 ${fig(50)} ms, p99 ${fig(99)} ms`);
  return { streams: o.streams, changes: fanouts.length, attempted: o.changes, fanoutP50Ms: fig(50), fanoutP99Ms: fig(99), fanoutMaxMs: complete ? round(Math.max(...fanouts)) : null };
}
