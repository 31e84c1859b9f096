// Load generator for `npm run bench -- resolver`, run as its own process so the load does not
// share an event loop with the resolver it measures. One JSON line on stdout per job.
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { request, Agent } from 'node:http';
import { parseArgs } from 'node:util';
import { ResolverServiceService, type ResolveRequest, type ResolveResponse, type WatchRequest, type WatchResponse } from '../proto/gen/isthmus/v1/resolver.ts';
import { percentile, round } from './stats.ts';

interface RawClient extends Client {
  resolve(req: ResolveRequest, md: Metadata, cb: (err: ServiceError | null, res?: ResolveResponse) => void): void;
  watch(req: WatchRequest, md: Metadata): ClientReadableStream<WatchResponse>;
}
const Ctor = makeGenericClientConstructor(ResolverServiceService, 'isthmus.v1.ResolverService') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Record<string, unknown>,
) => RawClient;

const now = (): number => performance.timeOrigin + performance.now();

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    target: { type: 'string' },
    path: { type: 'string', default: '/v1/services/bench/svc-0' },
    concurrency: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '5' },
    streams: { type: 'string', default: '1000' },
    channels: { type: 'string', default: '4' },
  },
});
const target = values.target ?? '';
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);

async function runFor(one: () => Promise<void>): Promise<{ requests: number; requestsPerSecond: number; p99Ms: number; p50Ms: number }> {
  const latencies: number[] = [];
  const end = now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (now() < end) {
      const t = now();
      await one();
      latencies.push(now() - t);
    }
  };
  const start = now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const took = (now() - start) / 1000;
  return { requests: latencies.length, requestsPerSecond: round(latencies.length / took, 0), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}

async function http(): Promise<void> {
  const url = new URL(values.path, target);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(url, { agent }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => { if (res.statusCode === 200) resolve(); else reject(new Error(`HTTP ${res.statusCode}`)); });
      });
      req.on('error', reject);
      req.end();
    });
  process.stdout.write(`${JSON.stringify(await runFor(one))}\n`);
  agent.destroy();
}

function clients(n: number): RawClient[] {
  // Several channels, as several callers would have: one HTTP/2 connection caps concurrency.
  return Array.from({ length: n }, (_, i) => new Ctor(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'bench.channel': i }));
}

async function grpcResolve(): Promise<void> {
  const cs = clients(Number(values.channels));
  let i = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const c = cs[i++ % cs.length]!;
      c.resolve({ namespace: 'bench', name: 'svc-0', filters: undefined }, new Metadata(), (err) => { if (err === null) resolve(); else reject(err); });
    });
  const r = await runFor(one);
  process.stdout.write(`${JSON.stringify({ resolvePerSecond: r.requestsPerSecond, p99Ms: r.p99Ms, requests: r.requests })}\n`);
  for (const c of cs) c.close();
}

/** Opens the streams, says "ready" once each has its first set, then reports when each saw the next one. */
async function watch(): Promise<void> {
  const n = Number(values.streams);
  const cs = clients(Number(values.channels));
  let first = 0;
  const second: number[] = [];
  const streams: ClientReadableStream<WatchResponse>[] = [];
  await new Promise<void>((resolve) => {
    for (let k = 0; k < n; k++) {
      let seen = 0;
      const s = cs[k % cs.length]!.watch({ namespace: 'bench', name: 'svc-watch', filters: undefined, index: 0 }, new Metadata());
      s.on('data', () => {
        seen++;
        if (seen === 1 && ++first === n) resolve();
        if (seen === 2) second.push(now());
      });
      s.on('error', () => undefined);
      streams.push(s);
    }
  });
  process.stdout.write('ready\n');
  const deadline = now() + 30_000;
  while (second.length < n && now() < deadline) await new Promise((r) => setTimeout(r, 5));
  process.stdout.write(`${JSON.stringify({ streams: n, received: second.length, lastAt: Math.max(...second) })}\n`);
  for (const s of streams) s.cancel();
  for (const c of cs) c.close();
}

switch (values.mode) {
  case 'http':
    await http();
    break;
  case 'grpc':
    await grpcResolve();
    break;
  case 'watch':
    await watch();
    break;
  default:
    process.stderr.write('--mode http|grpc|watch\n');
    process.exitCode = 2;
}
