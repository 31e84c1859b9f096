import { parseArgs } from 'node:util';
import { benchEngine } from './engine.ts';

const HELP = `Usage: npm run bench -- <engine> [--json] [options]

Benchmarks print JSON figures (with --json, only the JSON on stdout; progress goes to stderr).
Compare ratios within one run: machines here are shared and noisy.

  engine      the sync engine on memory registries (DESIGN §12 scale by default)
    --services N     services in the source registry (default 10000)
    --endpoints N    endpoints in the source registry (default 100000)
    --changes N      single changes timed for propagation latency (default 200)
    --churn N        endpoints in the rolling restart (default 1000)
    --idle S         seconds of idle CPU measurement after convergence (default 5)
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      services: { type: 'string', default: '10000' },
      endpoints: { type: 'string', default: '100000' },
      changes: { type: 'string', default: '200' },
      churn: { type: 'string', default: '1000' },
      idle: { type: 'string', default: '5' },
    },
  });
  const which = positionals[0];
  if (values.help || which === undefined) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const progress = (line: string): void => { process.stderr.write(`[bench ${which}] ${line}\n`); };
  if (which !== 'engine') {
    process.stderr.write(`unknown benchmark ${which}\n${HELP}`);
    return 2;
  }
  const result = await benchEngine({
    services: Number(values.services),
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
