// Health is state (DESIGN §5) against the real Eureka and the real API server, both directions,
// with the default route policy (a health flip that went through the deletion guard would show):
// - a Eureka instance going DOWN / OUT_OF_SERVICE is ready:false in its EndpointSlice, and back;
// - a pod turning not-ready in a native EndpointSlice shows DOWN in Eureka, and back;
// - the sink drives UP / DOWN / OUT_OF_SERVICE from endpoint health, one small write each, and
//   exports the weight as metadata `weight` (Spring Cloud LoadBalancer's weighted supplier).
// Latencies are printed as JSON lines.
import { setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { KubernetesSink, KubernetesSource } from '../../adapters/kubernetes/index.ts';
import { createEurekaSink, createEurekaSource, eurekaClient } from '../../adapters/eureka/index.ts';
import { effectiveStatus } from '../../adapters/eureka/native.ts';
import type { Endpoint, Route, ServiceSnapshot } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY, conditionsOf } from '../../bridge/model/index.ts';
import { applyDesired } from '../../bridge/ports/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { cleanupNamespace, api, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';
import { NativeEureka, ctx, eurekaOptions, runId, sharedEureka } from './eureka-support.ts';

const env = kubeEnv();
const WAIT = { timeout: 15_000, interval: 10 };
const BRIDGE = 'it-eureka-health';

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.82.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: { i: String(i) }, origin: { registry: 'vm', nativeId: `vm-${i}` }, ...over };
}

describe('eureka: health is state (real server)', () => {
  const run = runId();
  const abort = new AbortController();
  setMaxListeners(64, abort.signal);
  const engines: Engine[] = [];
  const figures: Record<string, number> = {};
  let ns = '';
  afterAll(async () => {
    await Promise.all(engines.map((x) => x.stop()));
    abort.abort();
    console.log(JSON.stringify({ figure: 'eureka-health-latency-ms', ...figures }));
    if (env !== undefined && ns !== '') {
      await cleanupNamespace(env, ns);
      await api(env, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
  });

  it('sink: UP, DOWN and OUT_OF_SERVICE follow endpoint health, one write each, then none; weight is metadata `weight`', async () => {
    const base = await sharedEureka();
    const native = new NativeEureka(base);
    const o = eurekaOptions(base);
    const c = eurekaClient(o, ctx('eureka', BRIDGE));
    const sink = createEurekaSink(o, ctx('eureka', BRIDGE), c);
    await sink.start(abort.signal);
    const ref = { namespace: 'default', name: `hs-${run}-export` };
    const snap = (eps: Endpoint[]): ServiceSnapshot => ({ ref, ports: [{ name: 'http', port: 8080 }], endpoints: eps, metadata: {}, origin: 'vm' });
    await applyDesired(sink, snap([ep(1, { weight: 300 }), ep(2)]));
    const onServer = async (address: string) => (await native.list(ref)).find((i) => i.ipAddr === address);
    const first = await onServer('10.82.0.1');
    expect(first?.metadata?.['weight']).toBe('3');
    expect(first?.metadata?.['isthmus.managed-by']).toBe(BRIDGE);
    expect(first?.app).toBe(ref.name.toUpperCase());
    expect(first?.vipAddress).toBe(ref.name);
    expect(first?.dataCenterInfo?.name).toBe('MyOwn');
    for (const [state, want] of [['down', 'DOWN'], ['draining', 'OUT_OF_SERVICE'], ['ready', 'UP'], ['draining', 'OUT_OF_SERVICE'], ['down', 'DOWN'], ['ready', 'UP']] as const) {
      const desired = snap([ep(1, { weight: 300 }), ep(2, conditionsOf(state))]);
      const writes = c.writes;
      await applyDesired(sink, desired);
      expect(c.writes - writes, `${state}: one status request`).toBe(1);
      const got = await onServer('10.82.0.2');
      expect(got === undefined ? undefined : effectiveStatus(got), state).toBe(want);
      expect(got?.status, state).toBe(want);
      expect(effectiveStatus((await onServer('10.82.0.1')) ?? {}), state).toBe('UP');
      expect(sink.plan(await sink.read(ref), desired).operations, state).toEqual([]);
    }
    // A restarted sink reads the server and agrees: nothing to write.
    const fresh = createEurekaSink(o, ctx('eureka', BRIDGE));
    const last = snap([ep(1, { weight: 300 }), ep(2)]);
    expect(fresh.plan(await fresh.read(ref), last).operations).toEqual([]);
    await sink.remove(ref);
    expect(await native.list(ref)).toEqual([]);
  }, 60_000);

  it.skipIf(env === undefined)('eureka → kubernetes: an instance going DOWN or OUT_OF_SERVICE is not ready in its EndpointSlice, and back, nothing held', async () => {
    const e = env!;
    ns = await testNamespace(e, 'eureka');
    const base = await sharedEureka();
    const native = new NativeEureka(base);
    const ref = { namespace: 'default', name: `hs-${run}-vm` };
    const [a, b] = [ep(11), ep(12)] as [Endpoint, Endpoint];
    await native.register(ref, a);
    await native.register(ref, b);
    const source = createEurekaSource(eurekaOptions(base, { services: [`hs-${run}-vm`] }), ctx('eureka', BRIDGE));
    await source.start(abort.signal);
    const sink = new KubernetesSink('k8s', client(e), k8sOptions({ namespaces: [ns] }), BRIDGE);
    await sink.start(abort.signal);
    const route: Route = { id: 'eureka->k8s', from: ['eureka'], to: 'k8s', select: {}, map: { namespace: ns }, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    const conditionsOfAddress = async (ip: string) => {
      const sel = encodeURIComponent(`kubernetes.io/service-name=${ref.name},isthmus.dev/managed-by=${BRIDGE}`);
      const slices = ((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${sel}`)).items ?? []) as unknown as { endpoints?: { addresses: string[]; conditions: object }[] }[];
      return slices.flatMap((s) => s.endpoints ?? []).find((x) => x.addresses[0] === ip)?.conditions;
    };
    await vi.waitFor(async () => { expect(await conditionsOfAddress(b.address)).toEqual(conditionsOf('ready')); }, WAIT);
    for (const [status, state] of [['DOWN', 'down'], ['UP', 'ready'], ['OUT_OF_SERVICE', 'draining'], ['UP', 'ready']] as const) {
      const t0 = performance.now();
      await native.setStatus(ref, b, status);
      await vi.waitFor(async () => { expect(await conditionsOfAddress(b.address)).toEqual(conditionsOf(state)); }, WAIT);
      figures[`eurekaToSlice${status}`] = Math.round(performance.now() - t0);
      expect(await conditionsOfAddress(a.address), status).toEqual(conditionsOf('ready'));
      await engine.whenIdle();
      expect(engine.summary().held, status).toEqual([]);
    }
    expect(figures['eurekaToSliceDOWN']).toBeLessThan(2000);
    for (const x of [a, b]) await native.cancel(ref, x);
  }, 60_000);

  it.skipIf(env === undefined)('kubernetes → eureka: a pod turning not-ready shows DOWN in Eureka, and back, nothing held', async () => {
    const e = env!;
    if (ns === '') ns = await testNamespace(e, 'eureka');
    const svc = `web-${run}`;
    const slice = (pods: { ip: string; ready: boolean }[], rv?: string): Record<string, unknown> => ({
      metadata: { name: `${svc}-pods`, namespace: ns, ...(rv === undefined ? {} : { resourceVersion: rv }), labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: pods.map((p, i) => ({ addresses: [p.ip], conditions: { ready: p.ready, serving: p.ready, terminating: false }, targetRef: { kind: 'Pod', name: `${svc}-${i}`, namespace: ns } })),
    });
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: svc }, spec: { selector: { app: svc }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    const pods = [{ ip: '10.244.7.1', ready: true }, { ip: '10.244.7.2', ready: true }];
    let rv = ((await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, slice(pods))).metadata as { resourceVersion: string }).resourceVersion;
    const source = new KubernetesSource('k8s', client(e), k8sOptions({ namespaces: [ns] }));
    await source.start(abort.signal);
    const base = await sharedEureka();
    const native = new NativeEureka(base);
    const sink = createEurekaSink(eurekaOptions(base), ctx('eureka', BRIDGE));
    await sink.start(abort.signal);
    const route: Route = { id: 'k8s->eureka', from: ['k8s'], to: 'eureka', select: {}, map: {}, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    const ref = { namespace: ns, name: svc };
    const statusOf = async (ip: string) => {
      const i = (await native.list(ref)).find((x) => x.ipAddr === ip);
      return i === undefined ? undefined : effectiveStatus(i);
    };
    await vi.waitFor(async () => { expect([await statusOf('10.244.7.1'), await statusOf('10.244.7.2')]).toEqual(['UP', 'UP']); }, WAIT);
    for (const ready of [false, true]) {
      pods[1] = { ip: '10.244.7.2', ready };
      const t0 = performance.now();
      rv = ((await must(e, 'PUT', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/${svc}-pods`, slice(pods, rv))).metadata as { resourceVersion: string }).resourceVersion;
      await vi.waitFor(async () => { expect(await statusOf('10.244.7.2')).toBe(ready ? 'UP' : 'DOWN'); }, WAIT);
      figures[`podToEureka${ready ? 'UP' : 'DOWN'}`] = Math.round(performance.now() - t0);
      expect(await statusOf('10.244.7.1')).toBe('UP');
      await engine.whenIdle();
      expect(engine.summary().held).toEqual([]);
    }
    expect(figures['podToEurekaDOWN']).toBeLessThan(2000);
    await engine.stop();
    await sink.remove(ref);
  }, 60_000);
});
