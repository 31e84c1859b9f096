// Health is state (DESIGN §5) against the real API server, both directions, with the default
// route policy (so a health flip that went through the 60 s deletion guard would show here):
// a pod turning not-ready in a native EndpointSlice reaches a VM-side registry as ready:false
// within a second and back; a VM endpoint turning down is written into our slice as ready:false
// at once. Also: a Service-shape-only change is one write, and the next pass plans nothing.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesSink, KubernetesSource } from '../../adapters/kubernetes/index.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import type { Endpoint, Route, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf, DEFAULT_POLICY, toDns1035 } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const WAIT = { timeout: 10_000, interval: 5 };

interface SliceJson {
  metadata: { name: string; resourceVersion: string };
  endpoints?: { addresses: string[]; conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } }[];
}

function podSlice(ns: string, pods: { ip: string; ready: boolean }[], rv?: string): Record<string, unknown> {
  return {
    metadata: { name: 'web-pods', namespace: ns, ...(rv === undefined ? {} : { resourceVersion: rv }), labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    // What the controller writes for a pod failing its readiness probe: not ready, not serving, not terminating.
    endpoints: pods.map((p, i) => ({ addresses: [p.ip], conditions: { ready: p.ready, serving: p.ready, terminating: false }, targetRef: { kind: 'Pod', name: `web-${i}`, namespace: ns } })),
  };
}

function vmEndpoint(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.91.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: `vm-${i}` }, ...over };
}

describe.skipIf(env === undefined)('kubernetes: health is state, shape changes converge', () => {
  const e = env!;
  let ns = '';
  const abort = new AbortController();
  const engines: Engine[] = [];
  const figures: Record<string, number> = {};
  beforeAll(async () => { ns = await testNamespace(e, 'health'); });
  afterAll(async () => {
    await Promise.all(engines.map((x) => x.stop()));
    abort.abort();
    console.log(JSON.stringify({ kubernetesHealthLatencyMs: figures }));
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  it('source: a pod turning not-ready reaches the target as ready:false within 1 s, and back, with nothing held', async () => {
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    const pods = [{ ip: '10.244.1.1', ready: true }, { ip: '10.244.1.2', ready: true }];
    let rv = ((await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, podSlice(ns, pods))).metadata as { resourceVersion: string }).resourceVersion;
    const source = new KubernetesSource('k8s', client(e), k8sOptions({ namespaces: [ns] }));
    await source.start(abort.signal);
    const target = new MemoryRegistry();
    const route: Route = { id: 'k8s->vm', from: ['k8s'], to: 'vm', select: {}, map: {}, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: 'it-health', sources: [source], sinks: [new MemorySink('vm', target, 'it-health')], routes: [route], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    const ref = { namespace: ns, name: 'web' };
    const readyOf = (ip: string) => [...(target.service(ref)?.endpoints.values() ?? [])].find((x) => x.endpoint.address === ip)?.endpoint.ready;
    await vi.waitFor(() => { expect([readyOf('10.244.1.1'), readyOf('10.244.1.2')]).toEqual([true, true]); }, WAIT);

    for (const [label, ready] of [['down', false], ['up', true]] as const) {
      pods[1] = { ip: '10.244.1.2', ready };
      const t0 = performance.now();
      rv = ((await must(e, 'PUT', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/web-pods`, podSlice(ns, pods, rv))).metadata as { resourceVersion: string }).resourceVersion;
      await vi.waitFor(() => { expect(readyOf('10.244.1.2')).toBe(ready); }, WAIT);
      figures[`source${label === 'down' ? 'Down' : 'Up'}`] = Math.round(performance.now() - t0);
      expect(figures[`source${label === 'down' ? 'Down' : 'Up'}`], label).toBeLessThan(1000);
      expect(readyOf('10.244.1.1')).toBe(true);
      await engine.whenIdle();
      expect(engine.summary().held, label).toEqual([]);
    }
  });

  it('sink: an imported endpoint turning down shows ready:false in the slice at once, one write each way, nothing held', async () => {
    const vm = new MemoryRegistry();
    const vmRef = { namespace: 'public', name: 'com.vm.Billing' };
    vm.upsertService(vmRef, [{ name: 'http', port: 8080 }], {});
    for (const i of [1, 2]) vm.putEndpoint(vmRef, vmEndpoint(i));
    const source = new MemorySource('vm', vm);
    await source.start(abort.signal);
    const c = client(e);
    const sink = new KubernetesSink('k8s', c, k8sOptions({ namespaces: [ns] }), 'it-health');
    await sink.start(abort.signal);
    const route: Route = { id: 'vm->k8s', from: ['vm'], to: 'k8s', select: {}, map: { namespace: ns }, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: 'it-health', sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    await engine.whenIdle();
    const svcName = toDns1035(vmRef.name);
    const conditionsOfAddress = async (ip: string) => {
      const sel = encodeURIComponent(`kubernetes.io/service-name=${svcName},isthmus.dev/managed-by=it-health`);
      const slices = ((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${sel}`)).items ?? []) as unknown as SliceJson[];
      return slices.flatMap((s) => s.endpoints ?? []).find((x) => x.addresses[0] === ip)?.conditions;
    };
    expect(await conditionsOfAddress('10.91.0.2')).toEqual(conditionsOf('ready'));

    for (const state of ['down', 'draining', 'ready'] as const) {
      const writes = c.writes;
      const t0 = performance.now();
      vm.putEndpoint(vmRef, vmEndpoint(2, conditionsOf(state)));
      await vi.waitFor(async () => { expect(await conditionsOfAddress('10.91.0.2')).toEqual(conditionsOf(state)); }, WAIT);
      figures[`sink${state[0]?.toUpperCase() ?? ''}${state.slice(1)}`] = Math.round(performance.now() - t0);
      await engine.whenIdle();
      expect(c.writes - writes, state).toBe(1); // the slice, updated in place
      expect(engine.summary().held, state).toEqual([]);
      expect(await conditionsOfAddress('10.91.0.1')).toEqual(conditionsOf('ready'));
    }
    expect(figures.sinkDown).toBeLessThan(1000);
  });

  it('a shape-only change (Service ports) is one write; the next pass plans nothing', async () => {
    const c = client(e);
    const sink = new KubernetesSink('k8s', c, k8sOptions({ namespaces: [ns] }), 'it-shape');
    const ref = { namespace: ns, name: 'shape' };
    const base: ServiceSnapshot = { ref, ports: [{ name: 'http', port: 8080 }], endpoints: [vmEndpoint(1), vmEndpoint(2)], metadata: {}, origin: 'vm' };
    await sink.apply(base);
    const sliceVersions = async () => (((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent('kubernetes.io/service-name=shape')}`)).items ?? []) as unknown as SliceJson[]).map((s) => s.metadata.resourceVersion);
    const slicesBefore = await sliceVersions();
    for (const ports of [[{ name: 'http', port: 80 }], [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }]]) {
      const want = { ...base, ports };
      const writes = c.writes;
      const plan = sink.plan(await sink.read(ref), want);
      expect(plan.operations).toEqual([{ verb: 'update', record: `Service ${ns}/shape` }]);
      await sink.execute(plan);
      expect(c.writes - writes).toBe(1);
      expect(sink.plan(await sink.read(ref), want).operations).toEqual([]);
      const svc = await must(e, 'GET', `/api/v1/namespaces/${ns}/services/shape`);
      expect((svc.spec as { ports: { name: string; port: number }[] }).ports.map((p) => [p.name, p.port])).toEqual(ports.map((p) => [p.name, p.port]).sort());
    }
    expect(await sliceVersions()).toEqual(slicesBefore); // endpoints untouched
    // A restarted sink (fresh client, no memory) agrees that nothing differs.
    const fresh = new KubernetesSink('k8s', client(e), k8sOptions({ namespaces: [ns] }), 'it-shape');
    const last = { ...base, ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }] };
    expect(fresh.plan(await fresh.read(ref), last).operations).toEqual([]);
  });

  it('a Service name that cannot be a ref cannot exist: the API server refuses it (the converter and source quarantine it, see unit tests)', async () => {
    for (const name of ['a/b', 'Orders', 'x'.repeat(64), '']) {
      const reply = await api(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name }, spec: { ports: [{ port: 80 }] } });
      expect([400, 404, 405, 422], JSON.stringify(name).slice(0, 20)).toContain(reply.status);
    }
  });
});
