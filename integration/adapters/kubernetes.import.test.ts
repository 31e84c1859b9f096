// VM registry (memory adapter) → Kubernetes at scale: 100 services × 10 endpoints become
// selectorless Services + EndpointSlices the real API server accepts; one change = one write;
// a restarted bridge writes nothing (resourceVersions unchanged).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import type { Endpoint, Route, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { KubernetesSink } from '../../adapters/kubernetes/index.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
// ISTHMUS_K8S_IMPORT_SERVICES scales the run up (the harness's /24 service CIDR holds ~250 ClusterIPs).
const SERVICES = Number(process.env.ISTHMUS_K8S_IMPORT_SERVICES ?? 100);
const PER_SERVICE = 10;
const BRIDGE = 'it-import';

function vmEndpoint(s: number, i: number, over: Partial<Endpoint> = {}): Endpoint {
  return {
    address: `10.${20 + Math.floor(s / 200)}.${s % 200}.${i + 1}`,
    ports: { http: 8080 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    zone: `zone-${i % 3}`,
    metadata: {},
    origin: { registry: 'vm', nativeId: `svc${s}-i${i}` },
    ...over,
  };
}

interface SliceJson {
  metadata: { name: string; resourceVersion: string; labels: Record<string, string> };
  addressType: string;
  endpoints?: { addresses: string[]; conditions: { ready?: boolean; serving?: boolean; terminating?: boolean }; zone?: string }[];
}

describe.skipIf(env === undefined)('kubernetes import: 1,000 VM endpoints of 100 services', () => {
  const e = env!;
  let ns = '';
  const vm = new MemoryRegistry();
  const refs: ServiceRef[] = [];
  const engines: Engine[] = [];
  const aborts: AbortController[] = [];
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    ns = await testNamespace(e, 'import');
    for (let s = 0; s < SERVICES; s++) {
      const ref = { namespace: 'public', name: `com.shop.Service${s}` };
      refs.push(ref);
      vm.upsertService(ref, [{ name: 'http', port: 8080 }], {});
      for (let i = 0; i < PER_SERVICE; i++) vm.putEndpoint(ref, vmEndpoint(s, i));
    }
  });
  afterAll(async () => {
    await Promise.all(engines.map((x) => x.stop()));
    for (const a of aborts) a.abort();
    console.log(`kubernetes import figures: ${JSON.stringify(figures)}`);
    if (ns !== '') {
      await cleanupNamespace(e, ns);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
  });

  async function runBridge(): Promise<{ engine: Engine; writes: () => number }> {
    const source = new MemorySource('vm', vm);
    const abort = new AbortController();
    aborts.push(abort);
    await source.start(abort.signal);
    const c = client(e);
    const sink = new KubernetesSink('k8s', c, k8sOptions({ namespaces: [ns] }), BRIDGE);
    await sink.start(abort.signal);
    const route: Route = { id: 'vm->k8s', from: ['vm'], to: 'k8s', select: {}, map: { namespace: ns }, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50, workers: 8 });
    engines.push(engine);
    engine.start();
    return { engine, writes: () => c.writes };
  }

  async function slicesOf(name: string): Promise<SliceJson[]> {
    const sel = encodeURIComponent(`kubernetes.io/service-name=${name}`);
    return ((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${sel}`)).items ?? []) as unknown as SliceJson[];
  }

  async function versions(): Promise<string[]> {
    const svcs = (await must(e, 'GET', `/api/v1/namespaces/${ns}/services`)).items ?? [];
    const slices = (await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`)).items ?? [];
    return [...svcs, ...slices].map((o) => `${(o.metadata as { name: string }).name}@${(o.metadata as { resourceVersion: string }).resourceVersion}`).sort();
  }

  let first: { engine: Engine; writes: () => number };

  it('imports every endpoint as valid Services and EndpointSlices', async () => {
    const t0 = performance.now();
    first = await runBridge();
    await first.engine.whenIdle();
    figures.importConvergeMs = Math.round(performance.now() - t0);
    figures.importWrites = first.writes();
    expect(first.writes()).toBe(SERVICES * 2); // one Service + one slice (10 ≤ 100) each

    const services = (await must(e, 'GET', `/api/v1/namespaces/${ns}/services`)).items ?? [];
    expect(services).toHaveLength(SERVICES);
    for (const svc of services) {
      const spec = svc.spec as { selector?: unknown; type: string; clusterIP: string };
      expect(spec.selector).toBeUndefined();
      expect(spec.type).toBe('ClusterIP');
      expect((svc.metadata as { labels: Record<string, string> }).labels['isthmus.dev/managed-by']).toBe(BRIDGE);
    }
    for (const [s, ref] of refs.entries()) {
      const name = (services.find((x) => (x.metadata as { annotations: Record<string, string> }).annotations['isthmus.dev/original-name'] === ref.name)?.metadata as { name: string } | undefined)?.name;
      expect(name, ref.name).toMatch(/^com-shop-service\d+-[0-9a-f]{6}$/);
      const slices = await slicesOf(name!);
      expect(slices).toHaveLength(1);
      expect(slices[0]!.metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('bridge.isthmus.dev');
      const got = slices.flatMap((sl) => sl.endpoints ?? []).map((x) => [x.addresses[0], x.conditions.ready, x.conditions.serving, x.conditions.terminating, x.zone]).sort();
      const want = Array.from({ length: PER_SERVICE }, (_, i) => vmEndpoint(s, i)).map((x) => [x.address, true, true, false, x.zone]).sort();
      expect(got).toEqual(want);
    }
  });

  it('one changed endpoint = one slice write; 100 changes across 100 services = 100 writes', async () => {
    const before = first.writes();
    const t0 = performance.now();
    vm.putEndpoint(refs[0]!, vmEndpoint(0, 3, { ready: false, terminating: true }));
    await first.engine.whenIdle();
    figures.oneChangeMs = Math.round(performance.now() - t0);
    expect(first.writes() - before).toBe(1);

    const before2 = first.writes();
    const t1 = performance.now();
    for (let s = 0; s < SERVICES; s++) vm.putEndpoint(refs[s]!, vmEndpoint(s, 5, { zone: 'moved' }));
    await first.engine.whenIdle();
    figures.oneChangeInEveryServiceMs = Math.round(performance.now() - t1);
    figures.writesPerChange = (first.writes() - before2) / SERVICES;
    expect(first.writes() - before2).toBe(SERVICES);
  });

  it('a restarted bridge performs zero writes: every resourceVersion is unchanged', async () => {
    await first.engine.stop();
    const rvs = await versions();
    const t0 = performance.now();
    const second = await runBridge();
    await second.engine.whenIdle();
    figures.restartConvergeMs = Math.round(performance.now() - t0);
    expect(second.writes()).toBe(0);
    expect(await versions()).toEqual(rvs);
  });
});
