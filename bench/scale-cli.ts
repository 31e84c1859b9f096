// Arguments of `npm run bench -- scale`, kept apart from main.ts so that hook stays one line.
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { checkScale, formatReport } from './check.ts';
import { benchScale } from './scale.ts';
import { ROUTES, type RouteName } from './scale-route.ts';

const HELP = `Usage: npm run bench -- scale [--route R] [--json] [--check] [options]

One route at scale against the running harness servers (npm run servers -- status): N Services ×
10 endpoints plus one 100-endpoint service in the source, the bridge in its own process (dist/ when
built, else tsx) with default options (consul-k8s: a services glob for the run's names and headless
Services) and routes both ways, counting proxies in front of the registries (Nacos and ZooKeeper:
TCP proxies that decode the gRPC / jute frames). Phases: initial sync, the 100-endpoint service rolled pod by pod, an idle minute, a
restart with nothing changed. Prints initial sync time, requests and writes per phase, propagation,
idle requests per minute, restart writes, and the bridge process's peak RSS and CPU seconds.
Each route cleans up what it created.
  --route R        k8s-consul (default), k8s-nacos, k8s-zookeeper, consul-k8s, or all (one after another)
  --services N     Services of 10 endpoints (default 1000)
  --endpoints N    endpoints per Service (default 10)
  --roll N         pods of the rolled Service (default 100)
  --idle S         seconds of idle measurement (default 60)
  --timeout S      give up on the initial sync after S seconds (default 180)
  --shards N       Consul nodeShards (default: the adapter's default)
  --check          compare every figure with its target (bench/targets.ts); exit 1 on any miss
Render the JSON into README.md: npm run bench -- table <results.json>
The bridge gets the image's NODE_OPTIONS (--max-semi-space-size=1 --max-old-space-size=1024) unless NODE_OPTIONS is set
(NODE_OPTIONS= measures V8's defaults); BENCH_BRIDGE_FLAGS passes node flags NODE_OPTIONS refuses
(e.g. --trace-gc); BENCH_SYNC merges JSON into the config's sync section (e.g. '{"quietMs":10}').
`;

export async function scaleMain(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      json: { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      route: { type: 'string', default: 'k8s-consul' },
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
  const routes: RouteName[] = values.route === 'all' ? [...ROUTES] : ROUTES.filter((r) => r === values.route);
  if (routes.length === 0) {
    process.stderr.write(`unknown route ${values.route}\n${HELP}`);
    return 2;
  }
  const progress = (line: string): void => { process.stderr.write(`[bench scale] ${line}\n`); };
  const started = new Date().toISOString();
  const runs: Record<string, unknown>[] = [];
  for (const route of routes) {
    try {
      runs.push(await benchScale(route, {
        services: Number(values.services),
        endpointsPerService: Number(values.endpoints),
        rollPods: Number(values.roll),
        idleSeconds: Number(values.idle),
        syncTimeoutSeconds: Number(values.timeout),
        ...(values.shards === undefined ? {} : { nodeShards: Number(values.shards) }),
        progress,
      }));
    } catch (err) {
      // One route failing (a server down, a timeout) must not lose the others' figures.
      progress(`${route} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      runs.push({ route, error: String(err) });
    }
  }
  const cpu = cpus();
  const result: Record<string, unknown> = {
    date: started,
    machine: { host: hostname(), cpus: cpu.length, cpuModel: cpu[0]?.model ?? '?', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadavg1AtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
    runs,
  };
  const verdict = values.check ? checkScale(runs) : undefined;
  const out = verdict === undefined ? result : { ...result, check: verdict };
  process.stdout.write(`${JSON.stringify(values.json ? out : { scale: out }, null, values.json ? 0 : 2)}\n`);
  if (verdict === undefined) return 0;
  process.stderr.write(formatReport(verdict));
  return verdict.pass ? 0 : 1;
}
