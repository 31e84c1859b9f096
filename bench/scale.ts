// `npm run bench -- scale`: one route at scale against the real harness servers, with the bridge in
// its own process (scale-bridge.ts: its RSS and CPU are its own) and counting proxies in front of
// the registries (scale-proxy.ts, scale-tcp.ts). The phases are the same for every route: initial
// sync, a pod-by-pod roll, an idle stretch, a restart with nothing changed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../integration/drill/net.ts';
import { BridgeProcess, type BridgeUsage } from './scale-bridge.ts';
import { CountingProxy } from './scale-proxy.ts';
import { sleep, until, type RouteName, type RouteSettings, type ScaleRoute } from './scale-route.ts';
import { summary, type WireCounts } from './scale-wire.ts';
import { percentile, round } from './stats.ts';

export interface ScaleBenchOptions {
  readonly services: number;
  readonly endpointsPerService: number;
  readonly rollPods: number;
  readonly idleSeconds: number;
  readonly syncTimeoutSeconds: number;
  /** Consul `nodeShards`; absent = the adapter's default. */
  readonly nodeShards?: number;
  readonly progress: (line: string) => void;
}

/** Each route's module loads only when it runs (their registry clients cost memory and start-up). */
async function makeRoute(name: RouteName, s: RouteSettings): Promise<ScaleRoute> {
  switch (name) {
    case 'k8s-consul': return (await import('./scale-consul.ts')).consulExport(s);
    case 'k8s-nacos': return (await import('./scale-nacos.ts')).nacosExport(s);
    case 'k8s-zookeeper': return (await import('./scale-zookeeper.ts')).zookeeperExport(s);
    case 'consul-k8s': return (await import('./scale-import.ts')).consulImport(s);
  }
}

interface Phase {
  readonly target: WireCounts;
  readonly others: Record<string, WireCounts>;
}

function phase(route: ScaleRoute): Phase {
  return { target: route.target.phase(), others: Object.fromEntries(Object.entries(route.others).map(([k, c]) => [k, c.phase()])) };
}

function wire(p: Phase): Record<string, unknown> {
  const others = Object.entries(p.others);
  return { ...summary(p.target), ...(others.length === 0 ? {} : { others: Object.fromEntries(others.map(([k, c]) => [k, summary(c)])) }) };
}

async function ready(url: string): Promise<boolean> {
  return fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
}

export async function benchScale(name: RouteName, o: ScaleBenchOptions): Promise<Record<string, unknown>> {
  const run = `${Date.now().toString(36).slice(-5)}${randomBytes(2).toString('hex')}`;
  const progress = (line: string): void => { o.progress(`${name}: ${line}`); };
  const settings: RouteSettings = {
    services: o.services, endpointsPerService: o.endpointsPerService, rollPods: o.rollPods, run, namespace: `isthmus-scale-${run}`, progress,
    ...(o.nodeShards === undefined ? {} : { nodeShards: o.nodeShards }),
  };
  const route = await makeRoute(name, settings);
  const total = o.services + 1;
  const endpoints = o.services * o.endpointsPerService + o.rollPods;
  const out: Record<string, unknown> = { route: name, services: o.services, endpointsPerService: o.endpointsPerService, rollPods: o.rollPods, endpoints, counting: route.counting };
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-scale-'));
  const configPath = join(dir, 'bridge.yaml');
  let bridge: BridgeProcess | undefined;
  let tooManyLines = 0;
  try {
    await route.prepare();
    await route.populate();
    const resolverPort = await freePort('127.0.0.1');
    const resolverUrl = `http://127.0.0.1:${resolverPort}`;
    const config = withSyncOverrides(route.config(resolverPort));

    // Initial sync: bridge start until every service is in the target.
    phase(route);
    const s0 = performance.now();
    bridge = await BridgeProcess.start(configPath, config);
    let seen = 0;
    await until(`${total} services in the target`, o.syncTimeoutSeconds * 1000, async () => {
      if (bridge?.alive !== true) throw new Error('the bridge process exited during the initial sync (its log is above)');
      const n = await route.servicesInTarget();
      if (n !== seen) progress(`${n}/${total} services in the target after ${round((performance.now() - s0) / 1000)} s`);
      seen = n;
      return n >= total;
    }, 250).catch((err: unknown) => { out['syncError'] = String(err); });
    if (!bridge.alive) throw new Error(`the bridge process exited (code ${String(await bridge.exited())}); its log is above`);
    const syncSeconds = (performance.now() - s0) / 1000;
    const sync = phase(route);
    await sleep(3000);
    const settle = phase(route);
    const writes = sync.target.writes + settle.target.writes;
    out['initialSync'] = {
      seconds: round(syncSeconds, 2),
      servicesInTarget: seen,
      missing: total - seen,
      writesPerService: round(writes / total, 3),
      writesPerEndpoint: round(writes / endpoints, 3),
      ...(await route.details()),
      wire: wire(sync),
      settle3s: wire(settle),
    };
    progress(`initial sync ${round(syncSeconds)} s, ${writes} writes`);

    if (out['syncError'] === undefined) out['rollout'] = await rollout(route, o, progress);

    phase(route);
    const cpuBefore = (await bridge.usage()).cpuSeconds;
    await sleep(o.idleSeconds * 1000);
    const idle = phase(route);
    const usage: BridgeUsage = await bridge.usage();
    out['idle'] = {
      seconds: o.idleSeconds,
      requestsPerMinute: round((idle.target.requests * 60) / o.idleSeconds, 1),
      cpuPercent: round(((usage.cpuSeconds - cpuBefore) * 100) / o.idleSeconds, 2),
      wire: wire(idle),
    };
    progress(`idle: ${idle.target.requests} target requests in ${o.idleSeconds} s`);
    out['bridgeMemoryAfterIdle'] = await memoryMetrics(resolverUrl);
    out['bridge'] = usage;
    progress(`bridge process (${usage.runtime}): peak RSS ${usage.peakRssMiB} MiB, ${usage.cpuSeconds} CPU s`);
    tooManyLines += bridge.tooManyLines;
    out['bridgeExitCode'] = await bridge.stop();
    bridge = undefined;

    // Restart with nothing changed: until ready, every service back, and no target write for 3 s.
    phase(route);
    const r0 = performance.now();
    bridge = await BridgeProcess.start(configPath, config);
    await until('readyz after restart', 120_000, () => ready(resolverUrl), 100);
    const readyAt = performance.now();
    // Re-registering routes (Nacos, ZooKeeper) write after ready: wait for 3 s without a write.
    // At least 20 s: a registry that drops the old connection's or session's records late (Nacos,
    // ZooKeeper) makes the bridge write then, and those writes belong to the restart too.
    await until('the target quiet after restart', 300_000, async () =>
      performance.now() - readyAt > 20_000 && performance.now() - Math.max(readyAt, route.target.lastWriteAt) > 3000 && (await route.servicesInTarget()) >= total, 250);
    const restart = phase(route);
    out['restart'] = {
      seconds: round((performance.now() - r0) / 1000, 2),
      writes: restart.target.writes,
      writesPerService: round(restart.target.writes / total, 3),
      writesPerEndpoint: round(restart.target.writes / endpoints, 3),
      ...(await route.details()),
      wire: wire(restart),
      bridge: await bridge.usage(),
    };
    progress(`restart: ${restart.target.writes} writes`);

    out['status429'] = [route.target, ...Object.values(route.others)].reduce((n, c) => n + c.total.tooMany, 0);
    out['log429Lines'] = tooManyLines + bridge.tooManyLines;
    if (route.target instanceof CountingProxy) {
      out['maxOpenBlockingQueries'] = route.target.maxOpenBlocking;
      out['maxRequestsInFlight'] = route.target.maxInFlight;
    }
    out['note'] = 'bridge.peakRssMiB and cpuSeconds: the bridge process alone (VmHWM, utime+stime from /proc), from start through initial sync, rollout and idle';
  } finally {
    await bridge?.stop().catch(() => undefined);
    await route.cleanup().catch((err: unknown) => { progress(`cleanup failed: ${String(err)}`); });
    await Promise.all([route.target, ...Object.values(route.others)].map((c) => c.stop().catch(() => undefined)));
    await rm(dir, { recursive: true, force: true });
    progress('cleaned up');
  }
  return out;
}

/** The roll service's pods replaced one at a time; each timed until the target shows it. */
async function rollout(route: ScaleRoute, o: ScaleBenchOptions, progress: (line: string) => void): Promise<Record<string, unknown>> {
  const visible: number[] = [];
  const toWire: number[] = [];
  phase(route);
  for (let i = 0; i < o.rollPods; i++) {
    const step = await route.rollStep(i);
    visible.push(step.visibleMs);
    const w = route.target.firstWriteAfter(step.changedAt);
    if (w !== undefined) toWire.push(w - step.changedAt);
  }
  await sleep(1000);
  const p = phase(route);
  const stats = (v: number[]): Record<string, number> => ({ p50Ms: round(percentile(v, 50)), p99Ms: round(percentile(v, 99)), maxMs: round(Math.max(...v)) });
  progress(`rollout: visible p50 ${round(percentile(visible, 50))} ms, p99 ${round(percentile(visible, 99))} ms, ${p.target.writes} writes`);
  return {
    pods: o.rollPods,
    propagation: stats(visible),
    // The first write on the wire after the change: the bridge's share, without the target's own visibility delay.
    toWire: { ...stats(toWire), samples: toWire.length },
    writesPerPod: round(p.target.writes / o.rollPods, 3),
    wire: wire(p),
  };
}

/** Where the bridge's memory sits (its own /metrics, prom-client's process metrics), MiB. */
async function memoryMetrics(resolverUrl: string): Promise<Record<string, number>> {
  const text = await fetch(`${resolverUrl}/metrics`).then(async (r) => r.text(), () => '');
  const pick = (name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m === null ? Number.NaN : round(Number(m[1]) / 2 ** 20, 1);
  };
  return { rss: pick('process_resident_memory_bytes'), heapUsed: pick('nodejs_heap_size_used_bytes'), heapTotal: pick('nodejs_heap_size_total_bytes'), external: pick('nodejs_external_memory_bytes') };
}

/** BENCH_SYNC: JSON merged into the config's `sync` (`{"quietMs":10}`), for A/B runs of engine tuning. */
function withSyncOverrides(config: Record<string, unknown>): Record<string, unknown> {
  const text = process.env['BENCH_SYNC'];
  if (text === undefined || text === '') return config;
  const extra = JSON.parse(text) as Record<string, unknown>;
  return { ...config, sync: { ...(config['sync'] as Record<string, unknown> | undefined), ...extra } };
}
