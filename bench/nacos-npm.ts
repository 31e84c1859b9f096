// `npm run bench -- nacos-npm`: what the `nacos` npm client (HTTP v1, a beat per instance) sends
// to keep N ephemeral instances registered, against the running harness Nacos. A figure about
// another library, for comparison with the bridge's gRPC export (0.2 req/s steady for 1,000
// endpoints, integration/adapters/nacos.scale.test.ts), so it lives here and not in the suite.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { runningConnection } from '../integration/servers/index.ts';

const HELP = `Usage: npm run bench -- nacos-npm [--instances N]

Registers N ephemeral instances (20 services) with the nacos npm client against the harness's
running Nacos (npm run servers -- up), waits for its beats to come in rounds, and prints one
JSON line: requests and beats per second over one whole beat period, and beats per second per
1,000 instances. Takes about 20 s.
  --instances N   instances registered (default 200)
`;

interface NpmClient {
  ready(): Promise<void>;
  registerInstance(service: string, instance: object): Promise<void>;
  close(): void;
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

export async function nacosNpmMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { instances: { type: 'string', default: '200' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1) {
    process.stderr.write(`--instances must be a positive integer, not ${values.instances}\n`);
    return 2;
  }
  const conn = await runningConnection('nacos');
  if (conn === undefined) {
    process.stderr.write('no running Nacos: start the harness servers with `npm run servers -- up`\n');
    return 2;
  }
  const require = createRequire(import.meta.url);
  const urllib = require('urllib') as { request: (url: string, o: unknown) => Promise<unknown> };
  const { NacosNamingClient } = require('nacos') as { NacosNamingClient: new (o: object) => NpmClient };
  // When each request and each beat went out: the client beats every instance at once, then
  // sleeps clientBeatInterval, so beats come in rounds separated by quiet gaps.
  const requestTimes: number[] = [];
  const beatTimes: number[] = [];
  const client = new NacosNamingClient({
    logger: quiet,
    serverList: `${conn.host}:${conn.httpPort}`,
    namespace: 'public',
    httpclient: {
      request: (url: string, o: unknown) => {
        requestTimes.push(Date.now());
        if (url.includes('/instance/beat')) beatTimes.push(Date.now());
        return urllib.request(url, o);
      },
    },
  });
  try {
    await client.ready();
    const run = randomUUID().slice(0, 8);
    for (let i = 0; i < instances; i++) {
      await client.registerInstance(`npm-${run}-${i % 20}`, { ip: `10.41.${Math.floor(i / 20) % 256}.${(i % 20) + 1}`, port: 8080, healthy: true, enabled: true, instanceId: '' });
    }
    process.stderr.write(`[bench nacos-npm] ${instances} instances registered; waiting for three beat rounds\n`);
    // The steady rate is one whole round over one whole period (the second round's start to the
    // third's), measured rather than guessed with fixed waits.
    const roundStarts = (): number[] => beatTimes.filter((t, k) => k === 0 || t - beatTimes[k - 1]! > 1000);
    const warm = Date.now();
    while (roundStarts().length < 3) {
      if (Date.now() - warm > 120_000) throw new Error(`beats did not come in rounds within 120 s (${beatTimes.length} beats)`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const [, from, to] = roundStarts() as [number, number, number];
    const period = to - from;
    const inPeriod = (times: readonly number[]): number => times.filter((t) => t >= from && t < to).length;
    const beatsPerSecond = inPeriod(beatTimes) / (period / 1000);
    process.stdout.write(`${JSON.stringify({
      figure: 'nacos-npm-client-beats',
      instances,
      steadyWindowMs: period,
      requestsPerSecond: inPeriod(requestTimes) / (period / 1000),
      beatsPerSecond,
      per1000Instances: (beatsPerSecond * 1000) / instances,
    })}\n`);
    return 0;
  } finally {
    client.close();
  }
}
