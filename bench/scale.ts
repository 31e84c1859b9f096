// `npm run bench -- scale`: Kubernetes → Consul at scale against the real harness servers, with
// the bridge in its own process (scale-bridge.ts: its RSS and CPU are its own) and a counting
// proxy in front of Consul (see scale-proxy.ts for why).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardFilter } from '../adapters/consul/shards.ts';
import { freePort } from '../integration/drill/net.ts';
import { runningConnection } from '../integration/servers/index.ts';
import { BridgeProcess, type BridgeUsage } from './scale-bridge.ts';
import { CountingProxy, type WireCounts } from './scale-proxy.ts';
import { podIp, pool, ScaleKube, type Pod } from './scale-kube.ts';
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Direct, uncounted Consul reads: the bench's own checks must not show up in the figures. */
async function consulGet(base: string, path: string, params: Record<string, string> = {}): Promise<{ body: unknown; index: number }> {
  const url = new URL(base + path);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${await res.text()}`);
  return { body: await res.json(), index: Number(res.headers.get('x-consul-index') ?? '0') };
}

async function ready(url: string): Promise<boolean> {
  return fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
}

async function until(what: string, deadlineMs: number, check: () => Promise<boolean>, everyMs = 100): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function summary(c: WireCounts): Record<string, unknown> {
  const top = Object.entries(c.byPath).sort((a, b) => b[1] - a[1]).slice(0, 6);
  const avgMs = Object.fromEntries(top.filter(([k]) => c.msByPath[k] !== undefined).map(([k, n]) => [k, round((c.msByPath[k] ?? 0) / n, 1)]));
  return { requests: c.requests, writes: c.writes, blocking: c.blocking, non2xx: c.non2xx, status429: c.tooMany, mbIn: round(c.bytesIn / 2 ** 20, 2), top: Object.fromEntries(top), avgMsNonBlocking: avgMs };
}

export async function benchScale(o: ScaleBenchOptions): Promise<Record<string, unknown>> {
  const k8sConn = await runningConnection('kubernetes');
  const consulConn = await runningConnection('consul');
  if (k8sConn === undefined || consulConn === undefined) throw new Error('kubernetes and consul must be running (npm run servers -- start kubernetes consul)');
  const consul = consulConn.httpUrl;
  const run = `${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const ns = `isthmus-scale-${run}`;
  const bridgeId = `scale-${run}`;
  const node = `isthmus-${bridgeId}`;
  const kube = new ScaleKube(k8sConn, ns);
  const proxy = new CountingProxy(consul);
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-scale-'));
  const configPath = join(dir, 'bridge.yaml');
  const names = Array.from({ length: o.services }, (_, i) => `svc-${i}`);
  const roll = 'roll';
  const pods = (s: number, n: number): Pod[] => Array.from({ length: n }, (_, p) => ({ ip: podIp(s, p), name: `p-${s}-${p}` }));
  const out: Record<string, unknown> = { services: o.services, endpointsPerService: o.endpointsPerService, rollPods: o.rollPods };
  let bridge: BridgeProcess | undefined;
  let tooManyLines = 0;
  try {
    await kube.createNamespace();
    const t0 = performance.now();
    await pool(names, 16, (n, i) => kube.createService(n, pods(i, o.endpointsPerService)));
    await kube.createService(roll, pods(o.services, o.rollPods));
    const total = o.services + 1;
    const endpoints = o.services * o.endpointsPerService + o.rollPods;
    o.progress(`created ${total} Services / ${endpoints} endpoints in ${ns} in ${round((performance.now() - t0) / 1000)} s`);

    const proxyUrl = await proxy.start();
    const resolverPort = await freePort('127.0.0.1');
    const resolverUrl = `http://127.0.0.1:${resolverPort}`;
    const config = {
      bridge: { id: bridgeId },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig: k8sConn.kubeconfigPath }, namespaces: [ns] },
        // Default Consul options (`services: ['*']`); only the canonical namespace is set, so
        // anything the import route finds lands in the bench namespace, which is deleted.
        consul: { kind: 'consul', address: proxyUrl, namespace: ns, ...(o.nodeShards === undefined ? {} : { nodeShards: o.nodeShards }) },
      },
      routes: [
        { from: 'k8s', to: 'consul', select: { namespaces: [ns] } },
        { from: 'consul', to: 'k8s', select: { namespaces: [ns] } },
      ],
      resolver: { http: { host: '127.0.0.1', port: resolverPort }, grpc: { enabled: false } },
      log: { level: 'warn' },
    };
    const exported = async (): Promise<number> =>
      Object.keys((await consulGet(consul, '/v1/catalog/services', { filter: shardFilter(node, 'Node') })).body as Record<string, unknown>).length;

    // Initial sync: bridge start until every Service is in Consul.
    proxy.phase();
    const s0 = performance.now();
    bridge = await BridgeProcess.start(configPath, config);
    let lastSeen = 0;
    await until(`${total} services in Consul`, o.syncTimeoutSeconds * 1000, async () => {
      if (bridge?.alive !== true) throw new Error('the bridge process exited during the initial sync (its log is above)');
      const n = await exported();
      if (n !== lastSeen) o.progress(`${n}/${total} services in Consul after ${round((performance.now() - s0) / 1000)} s`);
      lastSeen = n;
      return n >= total;
    }, 250).catch((err: unknown) => { out['syncError'] = String(err); });
    const syncSeconds = (performance.now() - s0) / 1000;
    const sync = proxy.phase();
    await sleep(3000);
    const settle = proxy.phase();
    const shards = await ownNodes(consul, node);
    let instances = 0;
    for (const n of shards) instances += ((await consulGet(consul, `/v1/catalog/node-services/${encodeURIComponent(n)}`)).body as { Services: unknown[] | null }).Services?.length ?? 0;
    out['initialSync'] = {
      seconds: round(syncSeconds, 2),
      servicesInConsul: lastSeen,
      instancesInConsul: instances,
      shardNodes: shards.length,
      writesPerService: round((sync.writes + settle.writes) / total, 3),
      wire: summary(sync),
      settle3s: summary(settle),
    };
    o.progress(`initial sync ${round(syncSeconds)} s, ${sync.writes} writes, ${sync.tooMany} × 429`);

    if (out['syncError'] === undefined) out['rollout'] = await rollout(o, kube, consul, node, roll, pods(o.services, o.rollPods), proxy);

    proxy.phase();
    const idleMs = o.idleSeconds * 1000;
    await sleep(idleMs);
    const idle = proxy.phase();
    out['idle'] = { seconds: o.idleSeconds, requestsPerMinute: round((idle.requests * 60_000) / idleMs, 1), wire: summary(idle) };
    o.progress(`idle: ${idle.requests} requests in ${o.idleSeconds} s`);

    out['bridgeMemoryAfterIdle'] = await memoryMetrics(resolverUrl);
    const first: BridgeUsage = await bridge.usage();
    out['bridge'] = first;
    o.progress(`bridge process (${first.runtime}): peak RSS ${first.peakRssMiB} MiB, ${first.cpuSeconds} CPU s`);
    tooManyLines += bridge.tooManyLines;
    out['bridgeExitCode'] = await bridge.stop();
    bridge = undefined;
    proxy.phase();
    bridge = await BridgeProcess.start(configPath, config);
    await until('readyz after restart', 60_000, () => ready(resolverUrl), 100);
    await sleep(5000);
    const restart = proxy.phase();
    out['restart'] = { writes: restart.writes, wire: summary(restart), bridge: await bridge.usage() };
    o.progress(`restart: ${restart.writes} writes`);

    out['status429'] = proxy.total.tooMany;
    out['log429Lines'] = tooManyLines + bridge.tooManyLines;
    out['maxOpenBlockingQueries'] = proxy.maxOpenBlocking;
    out['maxRequestsInFlight'] = proxy.maxInFlight;
    out['note'] = 'bridge.peakRssMiB and cpuSeconds: the bridge process alone (VmHWM, utime+stime from /proc), from start through initial sync, rollout and idle';
  } finally {
    await bridge?.stop().catch(() => undefined);
    await proxy.stop();
    await rm(dir, { recursive: true, force: true });
    for (const n of await ownNodes(consul, node).catch(() => [node])) {
      await fetch(`${consul}/v1/catalog/deregister`, { method: 'PUT', body: JSON.stringify({ Node: n }) }).catch(() => undefined);
    }
    await kube.cleanup(16).catch((err: unknown) => { o.progress(`kubernetes cleanup failed: ${String(err)}`); });
    o.progress('cleaned up');
  }
  return out;
}

/** Where the bridge's memory sits (its own /metrics, prom-client's process metrics), MiB. */
async function memoryMetrics(resolverUrl: string): Promise<Record<string, number>> {
  const text = await fetch(`${resolverUrl}/metrics`).then(async (r) => r.text(), () => '');
  const pick = (name: string): number => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return m === null ? Number.NaN : round(Number(m[1]) / 2 ** 20, 1);
  };
  return {
    rss: pick('process_resident_memory_bytes'),
    heapUsed: pick('nodejs_heap_size_used_bytes'),
    heapTotal: pick('nodejs_heap_size_total_bytes'),
    external: pick('nodejs_external_memory_bytes'),
  };
}

/** The bridge's synthetic nodes (every shard). */
async function ownNodes(consul: string, node: string): Promise<string[]> {
  return ((await consulGet(consul, '/v1/catalog/nodes', { filter: shardFilter(node, 'Node') })).body as { Node: string }[]).map((n) => n.Node);
}

/** The 100-pod service rolled pod by pod: each pod replaced by one with a new address. */
async function rollout(o: ScaleBenchOptions, kube: ScaleKube, consul: string, node: string, name: string, start: Pod[], proxy: CountingProxy): Promise<Record<string, unknown>> {
  const current = [...start];
  const latencies: number[] = [];
  let rv = await kube.sliceVersion(name);
  proxy.phase();
  for (let i = 0; i < current.length; i++) {
    const old = current[i] as Pod;
    const fresh: Pod = { ip: podIp(o.services, current.length + i), name: `${old.name}-new` };
    current[i] = fresh;
    const { index } = await consulGet(consul, `/v1/health/service/${name}`, { filter: shardFilter(node, 'Node.Node') });
    const t = performance.now();
    rv = await kube.putSlice(name, current, rv);
    let at = index;
    for (;;) {
      const res = await consulGet(consul, `/v1/health/service/${name}`, { filter: shardFilter(node, 'Node.Node'), index: String(at), wait: '10s' });
      const addresses = new Set((res.body as { Service: { Address: string } }[]).map((e) => e.Service.Address));
      if (addresses.has(fresh.ip) && !addresses.has(old.ip)) break;
      if (performance.now() - t > 30_000) throw new Error(`pod ${i} of ${name} not rolled in Consul within 30 s`);
      at = res.index;
    }
    latencies.push(performance.now() - t);
  }
  await sleep(1000);
  const wire = proxy.phase();
  o.progress(`rollout: p50 ${round(percentile(latencies, 50))} ms, p99 ${round(percentile(latencies, 99))} ms, ${wire.writes} writes`);
  return {
    pods: current.length,
    propagation: { p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), maxMs: round(Math.max(...latencies)) },
    writesPerPod: round(wire.writes / current.length, 3),
    wire: summary(wire),
  };
}
