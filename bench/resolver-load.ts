// Load generator for `npm run bench -- resolver`, run as its own process so the load does not
// share an event loop with the resolver it measures. One JSON line on stdout per result.
import { credentials, makeGenericClientConstructor, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { ResolveRequest, ResolveResponse, ResolverServiceService, WatchRequest } from '../proto/gen/isthmus/v1/resolver.ts';
import { runH2load } from './h2load.ts';
import { grpcFrame, h2ServerStream, h2Session, h2Unary, httpConnection } from './lean-clients.ts';
import { percentile, round } from './stats.ts';

interface RawClient extends Client {
  resolve(req: ResolveRequest, md: Metadata, cb: (err: ServiceError | null, res?: ResolveResponse) => void): void;
}
const Ctor = makeGenericClientConstructor(ResolverServiceService, 'isthmus.v1.ResolverService') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: Record<string, unknown>,
) => RawClient;

const now = (): number => performance.timeOrigin + performance.now();
const RESOLVE = '/isthmus.v1.ResolverService/Resolve';
const WATCH = '/isthmus.v1.ResolverService/Watch';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    target: { type: 'string' },
    path: { type: 'string', default: '/v1/services/bench/svc-0' },
    concurrency: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '5' },
    streams: { type: 'string', default: '1000' },
    channels: { type: 'string', default: '4' },
    client: { type: 'string', default: 'h2' },
  },
});
const target = values.target ?? '';
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const channels = Number(values.channels);
const emit = (x: unknown): void => { process.stdout.write(`${JSON.stringify(x)}\n`); };

interface Rate { requests: number; requestsPerSecond: number; p50Ms: number; p99Ms: number }

/**
 * Load sent and not counted before each phase: the server's hot path is still being compiled
 * during its first thousands of calls. Without it, the resolver (measured first) was timed
 * partly cold and its bare-server baseline warm: saturated HTTP p99 5.8-8 ms cold, 3.0-4.4 warm.
 */
const WARM_UP_CALLS = 20_000;
const WARM_UP_SECONDS = 1;

/** Runs one worker per caller for `seconds`, after a second uncounted; `one(k)` is caller k's next call. */
async function runFor(one: (k: number) => Promise<unknown>): Promise<Rate> {
  await timed(one, WARM_UP_SECONDS);
  return timed(one, seconds);
}

async function timed(one: (k: number) => Promise<unknown>, forSeconds: number): Promise<Rate> {
  const latencies: number[] = [];
  const end = now() + forSeconds * 1000;
  const worker = async (k: number): Promise<void> => {
    while (now() < end) {
      const t = now();
      await one(k);
      latencies.push(now() - t);
    }
  };
  const start = now();
  await Promise.all(Array.from({ length: concurrency }, (_, k) => worker(k)));
  const took = (now() - start) / 1000;
  return { requests: latencies.length, requestsPerSecond: round(latencies.length / took, 0), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}

/** One answer is checked in full, so a fast wrong answer cannot pass for a fast right one. */
function expectService(name: string, endpoints: number): void {
  if (endpoints < 1) throw new Error(`answer for ${name} has no endpoints`);
}

async function http(): Promise<void> {
  const url = new URL(values.path, target);
  const first = await httpConnection(url);
  const answer = await first.get();
  const sample = JSON.parse(answer.toString('utf8')) as { ref?: { name?: string }; endpoints?: unknown[] };
  expectService(sample.ref?.name ?? '?', sample.endpoints?.length ?? 0);
  if (values.client !== 'h2load') {
    // One keep-alive connection per caller, as a pooled client holds.
    const conns = [first, ...(await Promise.all(Array.from({ length: concurrency - 1 }, () => httpConnection(url))))];
    emit(await runFor((k) => conns[k]!.get()));
    for (const c of conns) c.close();
    return;
  }
  first.close();
  const run = (calls: number): Promise<Rate> =>
    runH2load({ target: url.host, path: `${url.pathname}${url.search}`, protocol: 'http1', answerBytes: answer.length, connections: concurrency, streamsPerConnection: 1, calls });
  await run(WARM_UP_CALLS);
  emit(await run(Math.round(seconds * 25_000)));
}

const request: ResolveRequest = { namespace: 'bench', name: 'svc-0', filters: undefined };

async function grpcResolveH2(): Promise<Rate> {
  // Several connections, as several callers would have: one HTTP/2 connection is one socket.
  const sessions = Array.from({ length: channels }, () => h2Session(target));
  const body = grpcFrame(ResolveRequest.encode(request).finish());
  const sample = ResolveResponse.decode((await h2Unary(sessions[0]!, RESOLVE, body)).subarray(5));
  expectService(sample.service?.name ?? '?', sample.service?.endpoints.length ?? 0);
  const r = await runFor((k) => h2Unary(sessions[k % sessions.length]!, RESOLVE, body));
  for (const s of sessions) s.close();
  return r;
}

/** h2load (C) drives the calls; the lean client checks one answer first and gives its size. */
async function grpcResolveH2load(): Promise<Rate> {
  const session = h2Session(target);
  const body = grpcFrame(ResolveRequest.encode(request).finish());
  const answer = await h2Unary(session, RESOLVE, body);
  session.close();
  const sample = ResolveResponse.decode(answer.subarray(5));
  expectService(sample.service?.name ?? '?', sample.service?.endpoints.length ?? 0);
  const run = (calls: number): Promise<Rate> => runH2load({
    target,
    path: RESOLVE,
    protocol: 'grpc',
    body,
    answerBytes: answer.length,
    connections: channels,
    streamsPerConnection: Math.max(1, Math.round(concurrency / channels)),
    calls,
  });
  await run(WARM_UP_CALLS);
  // A count, not a duration: every call completes, so the answer-size check is exact.
  const r = await run(Math.round(seconds * 25_000));
  return { requests: r.requests, requestsPerSecond: r.requestsPerSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms };
}

async function grpcResolveGrpcJs(): Promise<Rate> {
  const cs = Array.from({ length: channels }, (_, i) => new Ctor(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'bench.channel': i }));
  const r = await runFor(
    (k) =>
      new Promise<void>((resolve, reject) => {
        cs[k % cs.length]!.resolve(request, new Metadata(), (err, res) => {
          if (err === null && res?.service !== undefined) resolve();
          else reject(err ?? new Error('empty answer'));
        });
      }),
  );
  for (const c of cs) c.close();
  return r;
}

async function grpcResolve(): Promise<void> {
  const r = values.client === 'grpc-js' ? await grpcResolveGrpcJs() : values.client === 'h2load' ? await grpcResolveH2load() : await grpcResolveH2();
  emit({ resolvePerSecond: r.requestsPerSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.requests, client: values.client });
}

/**
 * Opens the streams and says "ready" once each has its first state. After that, the k-th further
 * message on a stream is change k: when every stream has it, one line reports when the last got it.
 */
async function watch(): Promise<void> {
  const n = Number(values.streams);
  const sessions = Array.from({ length: channels }, () => h2Session(target));
  const body = grpcFrame(WatchRequest.encode({ namespace: 'bench', name: 'svc-watch', filters: undefined, index: 0 }).finish());
  const got: { count: number; lastAt: number }[] = [];
  let firsts = 0;
  let onReady = (): void => undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const streams = Array.from({ length: n }, (_, k) => {
    let seen = 0;
    const s = h2ServerStream(sessions[k % sessions.length]!, WATCH, body, (m) => {
      const at = now();
      for (let i = 0; i < m; i++) {
        seen++;
        if (seen === 1) {
          if (++firsts === n) onReady();
          continue;
        }
        const change = seen - 2;
        const slot = (got[change] ??= { count: 0, lastAt: 0 });
        slot.count++;
        slot.lastAt = Math.max(slot.lastAt, at);
        if (slot.count === n) emit({ change, lastAt: slot.lastAt, received: n });
      }
    });
    s.on('error', () => undefined);
    return s;
  });
  await ready;
  process.stdout.write('ready\n');
  // Runs until the bench is done with it and closes our stdout's reader (or kills us).
  await new Promise<void>((resolve) => { process.stdin.once('end', resolve).resume(); });
  for (const s of streams) s.close();
  for (const s of sessions) s.close();
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
