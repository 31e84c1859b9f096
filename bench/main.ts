import { parseArgs } from 'node:util';
import { check, formatReport } from './check.ts';
import type { BenchName } from './targets.ts';

// Each benchmark's modules load only when it runs: peak RSS is one of the figures, and the
// resolver's and scale bench's libraries (fastify, grpc-js, the registry clients) would add
// ~100 MB to the engine's.

const HELP = `Usage: npm run bench -- <engine|resolver> [--json] [--check] [options]
       npm run bench -- scale --help        (real servers, every route; see bench/scale-cli.ts)
       npm run bench -- table <scale.json>  (README performance table from scale results)
       npm run bench -- console [--services N]  (the /ui console in headless Chromium; bench/console.ts)
       npm run bench -- nacos-npm [--instances N]  (the nacos npm client's beats, for comparison)

Benchmarks print JSON figures (with --json, only the JSON on stdout; progress goes to stderr).
Compare ratios within one run: machines here are shared and noisy.
  --check     compare every figure with its DESIGN §12 target (bench/targets.ts): adds "check"
              (each figure, its target, pass) to the JSON, prints PASS/MISS lines on stderr,
              and exits 1 on any miss

  engine      the sync engine on memory registries (DESIGN §12 scale by default)
    --services N     services in the source registry (default 10000)
    --endpoints N    endpoints in the source registry (default 100000)
    --changes N      single changes timed for propagation latency (default 200)
    --churn N        endpoints in the rolling restart (default 1000)
    --idle S         seconds of idle CPU measurement after convergence (default 5)
  resolver    HTTP cached lookups and gRPC Resolve under load from a separate process, and the
              time for every one of N Watch streams to receive one change
    --services N     services in the catalog (default 1000, 10 endpoints each)
    --concurrency N  requests in flight (default 64)
    --seconds S      duration of each load phase (default 5)
    --streams N      concurrent Watch streams (default 1000)
    --changes N      changes timed for Watch fan-out (default 20)
    --gap MS         quiet time between those changes (default 250)
    --channels N     HTTP/2 connections the gRPC load spreads over (default 4)
    --client C       load client: h2load (nghttp2's C load generator, Debian package
                     nghttp2-client: the least CPU per call, so the figure is the resolver's;
                     HTTP/1.1 and gRPC), h2 (lean Node HTTP/1.1 and HTTP/2), grpc-js (the SDK's
                     stack, for gRPC; HTTP as h2), or auto (default: h2load when on PATH, else
                     h2; the JSON says which ran). Each phase starts with an uncounted warm-up.
`;

async function main(): Promise<number> {
  if (process.argv[2] === 'scale') return (await import('./scale-cli.ts')).scaleMain(process.argv.slice(3));
  if (process.argv[2] === 'console') return (await import('./console.ts')).consoleMain(process.argv.slice(3));
  if (process.argv[2] === 'table') return (await import('./table.ts')).tableMain(process.argv.slice(3));
  if (process.argv[2] === 'nacos-npm') return (await import('./nacos-npm.ts')).nacosNpmMain(process.argv.slice(3));
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      services: { type: 'string' },
      endpoints: { type: 'string', default: '100000' },
      changes: { type: 'string' },
      churn: { type: 'string', default: '1000' },
      idle: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '5' },
      streams: { type: 'string', default: '1000' },
      gap: { type: 'string', default: '250' },
      channels: { type: 'string', default: '4' },
      client: { type: 'string', default: 'auto' },
    },
  });
  const which = positionals[0];
  if (values.help || which === undefined) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  if (which !== 'engine' && which !== 'resolver') {
    process.stderr.write(`unknown benchmark ${which}\n${HELP}`);
    return 2;
  }
  const clients = ['h2load', 'h2', 'grpc-js'] as const;
  const named = clients.find((c) => c === values.client);
  if (named === undefined && values.client !== 'auto') {
    process.stderr.write(`--client must be auto or one of ${clients.join(', ')}, not ${values.client}\n`);
    return 2;
  }
  const progress = (line: string): void => { process.stderr.write(`[bench ${which}] ${line}\n`); };
  const result: object = which === 'resolver'
    ? await (await import('./resolver.ts')).benchResolver({
        services: Number(values.services ?? '1000'),
        endpointsPerService: 10,
        concurrency: Number(values.concurrency),
        seconds: Number(values.seconds),
        streams: Number(values.streams),
        changes: Number(values.changes ?? '20'),
        gapMs: Number(values.gap),
        channels: Number(values.channels),
        // Resolved here, not for every benchmark: it runs `h2load --version`.
        client: named ?? ((await import('./h2load.ts')).haveH2load() ? 'h2load' : 'h2'),
        progress,
      })
    : await (await import('./engine.ts')).benchEngine({
        services: Number(values.services ?? '10000'),
        endpoints: Number(values.endpoints),
        changes: Number(values.changes ?? '200'),
        churn: Number(values.churn),
        idleSeconds: Number(values.idle),
        progress,
      });
  return report(which, result, values.json, values.check);
}

function report(which: BenchName, result: object, json: boolean, checked: boolean): number {
  const verdict = checked ? check(which, result) : undefined;
  const out = verdict === undefined ? result : { ...result, check: verdict };
  process.stdout.write(`${JSON.stringify(json ? out : { [which]: out }, null, json ? 0 : 2)}\n`);
  if (verdict === undefined) return 0;
  process.stderr.write(formatReport(verdict));
  return verdict.pass ? 0 : 1;
}

process.exitCode = await main();
