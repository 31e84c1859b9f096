import { parseArgs } from 'node:util';
import { benchEngine } from './engine.ts';
import { benchResolver } from './resolver.ts';

const HELP = `Usage: npm run bench -- <engine> [--json] [options]

Benchmarks print JSON figures (with --json, only the JSON on stdout; progress goes to stderr).
Compare ratios within one run: machines here are shared and noisy.

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
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      services: { type: 'string' },
      endpoints: { type: 'string', default: '100000' },
      changes: { type: 'string', default: '200' },
      churn: { type: 'string', default: '1000' },
      idle: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '64' },
      seconds: { type: 'string', default: '5' },
      streams: { type: 'string', default: '1000' },
    },
  });
  const which = positionals[0];
  if (values.help || which === undefined) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const progress = (line: string): void => { process.stderr.write(`[bench ${which}] ${line}\n`); };
  if (which === 'resolver') {
    const result = await benchResolver({
      services: Number(values.services ?? '1000'),
      endpointsPerService: 10,
      concurrency: Number(values.concurrency),
      seconds: Number(values.seconds),
      streams: Number(values.streams),
      progress,
    });
    process.stdout.write(`${JSON.stringify(values.json ? result : { resolver: result }, null, values.json ? 0 : 2)}\n`);
    return 0;
  }
  if (which !== 'engine') {
    process.stderr.write(`unknown benchmark ${which}\n${HELP}`);
    return 2;
  }
  const result = await benchEngine({
    services: Number(values.services ?? '10000'),
    endpoints: Number(values.endpoints),
    changes: Number(values.changes),
    churn: Number(values.churn),
    idleSeconds: Number(values.idle),
    progress,
  });
  process.stdout.write(`${JSON.stringify(values.json ? result : { engine: result }, null, values.json ? 0 : 2)}\n`);
  return 0;
}

process.exitCode = await main();
