// The Istio mode driven by the real engine (not by hand-made plans): a VM registry → the
// Kubernetes sink with a selector Service, the split coming from the bridge's own `Weights`
// (the layer config weights, `isthmus weight` and ServiceMigrations feed). The VirtualService
// carries the split, WorkloadEntries keep the instances' own weights, a split change costs one
// write, and the deletion guard holds a mass disappearance of WorkloadEntries.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesSink } from '../../adapters/kubernetes/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { DEFAULT_POLICY, endpointKey, type Endpoint, type Route } from '../../bridge/model/index.ts';
import { Engine, Weights } from '../../bridge/sync/index.ts';
import { installIstioCrds } from '../istio/install.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const BRIDGE = 'it-istio-engine';
const WAIT = { timeout: 20_000, interval: 100 };

function ep(i: number): Endpoint {
  return { address: `10.72.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'nacos', nativeId: `vm-${i}` } };
}

describe.skipIf(env === undefined)('Istio mode through the engine', () => {
  const e = env!;
  let ns = '';
  const abort = new AbortController();
  let engine: Engine | undefined;
  beforeAll(async () => {
    await installIstioCrds(e);
    ns = await testNamespace(e, 'istio-engine');
  });
  afterAll(async () => {
    abort.abort();
    await engine?.stop();
    for (const plural of ['workloadentries', 'serviceentries', 'destinationrules', 'virtualservices']) await api(e, 'DELETE', `/apis/networking.istio.io/v1/namespaces/${ns}/${plural}`);
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  it('splits by Weights in a VirtualService, follows a change with one write, holds a mass removal', async () => {
    const ref = { namespace: ns, name: 'web' };
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'web', annotations: { 'isthmus.dev/accept-imports': 'true' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    const vms = new MemoryRegistry();
    for (const i of [1, 2, 3, 4]) vms.putEndpoint(ref, ep(i));
    const source = new MemorySource('nacos', vms);
    await source.start(abort.signal);
    const c = client(e);
    const sink = new KubernetesSink('k8s', c, k8sOptions({ namespaces: [ns], sink: { istio: { enabled: true } } }), BRIDGE);
    await sink.start(abort.signal);
    const weights = new Weights({ [`${ns}/web`]: { nacos: 90, k8s: 10 } });
    const route: Route = { id: 'nacos->k8s', from: ['nacos'], to: 'k8s', select: {}, map: {}, policy: DEFAULT_POLICY };
    engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [route], weights, quietMs: 5, maxDelayMs: 50 });
    engine.start();

    const entries = async () => ((await must(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`)).items ?? []) as unknown as { spec: { address: string; weight: number } }[];
    const vsWeights = async () => {
      const vs = await api(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices/web-isthmus`);
      return vs.status === 200 ? ((vs.body['spec'] as { http: { route: { weight: number }[] }[] }).http[0]?.route.map((r) => r.weight)) : undefined;
    };
    await vi.waitFor(async () => {
      expect(await vsWeights()).toEqual([90, 10]);
      expect((await entries()).map((w) => w.spec.weight)).toEqual([1, 1, 1, 1]); // a pod's weight each, never rescaled by the split
    }, WAIT);
    await engine.whenIdle();

    const before = c.writes;
    weights.set(ref, { nacos: 25, k8s: 75 });
    await vi.waitFor(async () => { expect(await vsWeights()).toEqual([25, 75]); }, WAIT);
    await engine.whenIdle();
    expect(c.writes - before).toBe(1);

    // Three of four VM instances vanish at once: more than the default 50 % shrink, held.
    for (const i of [2, 3, 4]) vms.deleteEndpoint(ref, endpointKey(ep(i)));
    await vi.waitFor(() => {
      expect(engine?.explain(ref).targets[0]?.held).toBeDefined();
    }, WAIT);
    expect((await entries()).length).toBe(4);
  });
});
