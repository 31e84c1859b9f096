// Arguments of `npm run bench -- scale`, kept apart from main.ts so that hook stays one line.
import { parseArgs } from 'node:util';
import { benchScale } from './scale.ts';

const HELP = `Usage: npm run bench -- scale [--json] [options]

Kubernetes → Consul against the running harness servers (npm run servers -- status): N headless
Services × 10 endpoints plus one 100-endpoint Service in a fresh namespace, the bridge in its own
process (dist/ when built, else tsx) with default Consul options and routes both ways, a counting proxy in front of Consul.
Prints initial sync time, 429s, requests and writes per phase, rollout propagation, idle
requests per minute, restart writes, and the bridge process's peak RSS and CPU seconds. Cleans up what it created.
  --services N     Services of 10 endpoints (default 1000)
  --endpoints N    endpoints per Service (default 10)
  --roll N         pods of the rolled Service (default 100)
  --idle S         seconds of idle measurement (default 60)
  --timeout S      give up on the initial sync after S seconds (default 180)
  --shards N       Consul nodeShards (default: the adapter's default)
`;

export async function scaleMain(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      services: { type: 'string', default: '1000' },
      endpoints: { type: 'string', default: '10' },
      roll: { type: 'string', default: '100' },
      idle: { type: 'string', default: '60' },
      timeout: { type: 'string', default: '180' },
      shards: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const result = await benchScale({
    services: Number(values.services),
    endpointsPerService: Number(values.endpoints),
    rollPods: Number(values.roll),
    idleSeconds: Number(values.idle),
    syncTimeoutSeconds: Number(values.timeout),
    ...(values.shards === undefined ? {} : { nodeShards: Number(values.shards) }),
    progress: (line) => { process.stderr.write(`[bench scale] ${line}\n`); },
  });
  process.stdout.write(`${JSON.stringify(values.json ? result : { scale: result }, null, values.json ? 0 : 2)}\n`);
  return 0;
}
