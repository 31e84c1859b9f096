// Kubernetes → VM registry (memory adapter): EndpointSlices made the way the EndpointSlice
// controller makes them (pods, one terminating) export with the right health, and a pod that
// starts terminating is draining in the target after one reconcile. Also 1,000 endpoints.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { KubernetesSource } from '../../adapters/kubernetes/index.ts';
import type { Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY, liveness } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { api, cleanupNamespace, kubeEnv, type KubeTestEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const WAIT = { timeout: 30_000, interval: 20 };

interface Pod { ip: string; name: string; ready: boolean; terminating: boolean; node: string }

function controllerSlice(svc: string, pods: Pod[], rv?: string): Record<string, unknown> {
  return {
    metadata: {
      name: `${svc}-abcde`,
      ...(rv === undefined ? {} : { resourceVersion: rv }),
      labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'grpc', port: 9090, protocol: 'TCP' }],
    endpoints: pods.map((p) => ({
      addresses: [p.ip],
      // What the controller writes: serving follows pod readiness, ready = serving && !terminating.
      conditions: { ready: p.ready && !p.terminating, serving: p.ready, terminating: p.terminating },
      nodeName: p.node,
      zone: 'zone-a',
      targetRef: { kind: 'Pod', name: p.name, namespace: 'x' },
    })),
  };
}

async function selectorService(e: KubeTestEnv, ns: string, name: string, annotations: Record<string, string> = {}): Promise<void> {
  await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, {
    metadata: { name, annotations },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'grpc', port: 9090, targetPort: 9090 }] },
  });
}

describe.skipIf(env === undefined)('kubernetes export (EndpointSlices → VM registry)', () => {
  const e = env!;
  let ns = '';
  const target = new MemoryRegistry();
  const abort = new AbortController();
  let engine: Engine;
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    ns = await testNamespace(e, 'export');
  });
  afterAll(async () => {
    await engine.stop();
    abort.abort();
    console.log(`kubernetes export figures: ${JSON.stringify(figures)}`);
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  it('exports controller-made slices; a pod that starts terminating is drained within one reconcile', async () => {
    await selectorService(e, ns, 'web', { 'isthmus.dev/export': 'true', 'isthmus.dev/export-port': 'grpc' });
    const pods: Pod[] = [1, 2, 3, 4].map((i) => ({ ip: `10.244.0.${i}`, name: `web-${i}`, ready: true, terminating: i === 4, node: `node-${i % 2}` }));
    const created = await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, controllerSlice('web', pods));

    const source = new KubernetesSource('k8s', client(e), k8sOptions({ namespaces: [ns], source: { annotations: { 'isthmus.dev/export': 'true' } } }));
    await source.start(abort.signal);
    const sink = new MemorySink('vm', target, 'it-export');
    const route: Route = { id: 'k8s->vm', from: ['k8s'], to: 'vm', select: { metadata: { 'isthmus.dev/export': 'true' } }, map: {}, policy: DEFAULT_POLICY };
    engine = new Engine({ bridgeId: 'it-export', sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50 });
    engine.start();
    await engine.whenIdle();
    const ref = { namespace: ns, name: 'web' };
    const states = () => [...(target.service(ref)?.endpoints.values() ?? [])].map((x) => [x.endpoint.address, liveness(x.endpoint)]).sort();
    await vi.waitFor(() => { expect(states()).toEqual([['10.244.0.1', 'ready'], ['10.244.0.2', 'ready'], ['10.244.0.3', 'ready'], ['10.244.0.4', 'draining']]); }, WAIT);
    const one = [...(target.service(ref)?.endpoints.values() ?? [])][0]!.endpoint;
    expect(Object.keys(one.ports)).toEqual(['grpc', 'http']); // export-port first
    expect(one).toMatchObject({ zone: 'zone-a', origin: { registry: 'k8s' } });

    const writes = target.writes;
    const t0 = performance.now();
    pods[1] = { ...pods[1]!, terminating: true };
    await must(e, 'PUT', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/web-abcde`, controllerSlice('web', pods, (created.metadata as { resourceVersion: string }).resourceVersion));
    await vi.waitFor(() => { expect(states()[1]).toEqual(['10.244.0.2', 'draining']); }, WAIT);
    figures.drainLatencyMs = Math.round(performance.now() - t0);
    await engine.whenIdle();
    expect(target.writes - writes).toBe(1); // one endpoint record rewritten, nothing else
  });

  it('exports 1,000 pod endpoints of 100 Services and converges', async () => {
    const writes0 = target.writes;
    const t0 = performance.now();
    for (let s = 0; s < 100; s++) {
      const name = `bulk-${s}`;
      await selectorService(e, ns, name, { 'isthmus.dev/export': 'true' });
      const pods = Array.from({ length: 10 }, (_, i) => ({ ip: `10.245.${s}.${i + 1}`, name: `${name}-${i}`, ready: true, terminating: false, node: 'node-0' }));
      await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, controllerSlice(name, pods));
    }
    const created = performance.now();
    figures.createObjectsMs = Math.round(created - t0);
    await vi.waitFor(() => {
      let n = 0;
      for (let s = 0; s < 100; s++) n += target.service({ namespace: ns, name: `bulk-${s}` })?.endpoints.size ?? 0;
      expect(n).toBe(1000);
    }, { timeout: 60_000, interval: 20 });
    figures.exportConvergeAfterLastWriteMs = Math.round(performance.now() - created);
    await engine.whenIdle();
    figures.exportTargetWrites = target.writes - writes0; // per endpoint record + per service record
    expect(target.writes - writes0).toBeLessThanOrEqual(1000 + 100 * 2);
  });
});
