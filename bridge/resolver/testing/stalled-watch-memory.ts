// Measures the resolver's memory under gRPC Watch streams whose clients stop reading (issue 15,
// finding 8). The resolver runs in a child process so its RSS is not mixed with the clients';
// the clients are raw HTTP/2 streams that send one Watch request and never read, so the server's
// flow-control window closes after a few KB, which is what a stuck or hostile caller looks like.
//
//   npx tsx bridge/resolver/testing/stalled-watch-memory.ts [--streams 1000] [--endpoints 3000]
//       [--settle-ms 6000] [--buffered-mb N] [--unbounded]
//
// Prints one JSON line (sizes in MiB). `--unbounded` lifts the stream limits, which is close to
// the behaviour before they existed (except that a stream still holds one state, not sixteen).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Catalog } from '../../catalog/index.ts';
import { WatchResponse } from '../../../proto/gen/isthmus/v1/resolver.ts';
import { serviceToProto } from '../grpc-convert.ts';
import { GrpcResolver } from '../grpc-resolver.ts';
import { endpoint, FakeSource } from './fixtures.ts';
import { openStalledWatches } from './stalled-grpc.ts';

const REF = { namespace: 'bench', name: 'big' };
const MB = 1024 * 1024;

interface Sample {
  readonly rss: number;
  readonly maxRss: number;
  /** Buffers held outside the JS heap: where unsent state lives. */
  readonly arrayBuffers: number;
  readonly heapTotal: number;
  readonly watchers: number;
  readonly slowConsumers: number;
}

type FromChild = { kind: 'ready'; port: number; stateBytes: number; sample: Sample } | { kind: 'sample'; sample: Sample };

function sample(resolver: GrpcResolver): Sample {
  // Also runs against a resolver from before the limits (no stats()), for the "before" figure.
  const r = resolver as unknown as { stats?: () => { watchers: number; slowConsumers: number } };
  const stats = r.stats?.() ?? { watchers: resolver.watchers(), slowConsumers: 0 };
  return {
    rss: process.memoryUsage.rss(),
    arrayBuffers: process.memoryUsage().arrayBuffers,
    heapTotal: process.memoryUsage().heapTotal,
    maxRss: process.resourceUsage().maxRSS * 1024,
    watchers: stats.watchers,
    slowConsumers: stats.slowConsumers,
  };
}

/** The measured side: one big service, the gRPC resolver on loopback, samples on request. */
async function serve(endpoints: number, unbounded: boolean, bufferedMb: number | undefined): Promise<void> {
  const source = new FakeSource('vm');
  const pad = 'x'.repeat(160);
  source.put(
    REF,
    Array.from({ length: endpoints }, (_, i) =>
      endpoint('vm', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, { zone: `zone-${i % 3}`, metadata: { version: '1.0.0', note: pad } })),
  );
  const catalog = new Catalog([source]);
  catalog.start();
  const limits = unbounded
    ? { maxWatchStreams: Infinity, maxBufferedBytes: Infinity, slowConsumerMs: Infinity }
    : bufferedMb === undefined ? {} : { maxBufferedBytes: bufferedMb * MB };
  const resolver = new GrpcResolver({ catalog, limits });
  const port = await resolver.listen({ host: '127.0.0.1', port: 0 });
  const entry = catalog.get(REF);
  const service = entry === undefined ? undefined : serviceToProto(entry, { healthy: false, mesh: false }, undefined);
  const stateBytes = WatchResponse.encode({ index: 1, deleted: false, service }).finish().length;
  const send = (m: FromChild): void => { process.send?.(m); };
  send({ kind: 'ready', port, stateBytes, sample: sample(resolver) });
  process.on('message', (m) => {
    if (m === 'sample') send({ kind: 'sample', sample: sample(resolver) });
    if (m === 'exit') void resolver.close(100).then(() => process.exit(0));
  });
}

function ask(child: ChildProcess): Promise<Sample> {
  return new Promise((resolve) => {
    const on = (m: FromChild): void => {
      if (m.kind !== 'sample') return;
      child.off('message', on);
      resolve(m.sample);
    };
    child.on('message', on);
    child.send('sample');
  });
}

interface MeasureOptions {
  readonly streams: number;
  readonly endpoints: number;
  readonly settleMs: number;
  readonly unbounded: boolean;
  readonly bufferedMb: number | undefined;
}

async function measure(o: MeasureOptions): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const args = [
    '--serve',
    '--endpoints', String(o.endpoints),
    ...(o.unbounded ? ['--unbounded'] : []),
    ...(o.bufferedMb === undefined ? [] : ['--buffered-mb', String(o.bufferedMb)]),
  ];
  const child = fork(self, args, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<Extract<FromChild, { kind: 'ready' }>>((resolve) => {
    child.once('message', (m: FromChild) => { if (m.kind === 'ready') resolve(m); });
  });
  const started = Date.now();
  const clients = openStalledWatches(ready.port, REF, o.streams, Math.max(1, Math.ceil(o.streams / 100)));
  let peak = ready.sample.rss;
  let atPeak = ready.sample;
  let last = ready.sample;
  let open = 0;
  while (Date.now() - started < o.settleMs) {
    await new Promise((r) => setTimeout(r, 250));
    last = await ask(child);
    if (last.rss > peak) {
      peak = last.rss;
      atPeak = last;
    }
    open = Math.max(open, last.watchers);
  }
  const result = {
    streams: o.streams,
    unbounded: o.unbounded,
    bufferedMbLimit: o.bufferedMb ?? null,
    stateKb: Math.round(ready.stateBytes / 1024),
    baselineRssMb: Math.round(ready.sample.rss / MB),
    peakRssMb: Math.round(peak / MB),
    peakBuffersMb: Math.round(atPeak.arrayBuffers / MB),
    peakHeapMb: Math.round(atPeak.heapTotal / MB),
    baselineHeapMb: Math.round(ready.sample.heapTotal / MB),
    endRssMb: Math.round(last.rss / MB),
    endBuffersMb: Math.round(last.arrayBuffers / MB),
    maxRssMb: Math.round(last.maxRss / MB),
    growthMb: Math.round((peak - ready.sample.rss) / MB),
    maxOpenWatches: open,
    openAtEnd: last.watchers,
    slowConsumersDropped: last.slowConsumers,
    clientSawReset: clients.resets.length,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  clients.close();
  child.send('exit');
  await new Promise((r) => child.once('exit', r));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const { values } = parseArgs({
  options: {
    serve: { type: 'boolean' },
    unbounded: { type: 'boolean' },
    streams: { type: 'string', default: '1000' },
    endpoints: { type: 'string', default: '3000' },
    'settle-ms': { type: 'string', default: '6000' },
    'buffered-mb': { type: 'string' },
  },
});
const unbounded = values.unbounded === true;
const bufferedMb = values['buffered-mb'] === undefined ? undefined : Number(values['buffered-mb']);
if (values.serve === true) await serve(Number(values.endpoints), unbounded, bufferedMb);
else await measure({ streams: Number(values.streams), endpoints: Number(values.endpoints), settleMs: Number(values['settle-ms']), unbounded, bufferedMb });
