// The API server itself stops and comes back while the bridge runs (both directions): nothing is
// deleted meanwhile, health says unreachable, and everything converges afterwards.
// The harness's kube-apiserver is killed (etcd keeps the data) and started again unchanged.
// ISTHMUS_K8S_STOP_CMD / ISTHMUS_K8S_START_CMD (shell commands) override that, e.g. to aim the
// test at an API server the harness does not run.
import { execSync } from 'node:child_process';
import { crashProcess } from '../servers/index.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesSink, KubernetesSource } from '../../adapters/kubernetes/index.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const stopCmd = process.env.ISTHMUS_K8S_STOP_CMD;
const startCmd = process.env.ISTHMUS_K8S_START_CMD;

function vmEp(i: number): Endpoint {
  return { address: `10.70.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: `v${i}` } };
}

function podSlice(ips: string[], rv?: string): Record<string, unknown> {
  return {
    metadata: { name: 'pods-abc', ...(rv === undefined ? {} : { resourceVersion: rv }), labels: { 'kubernetes.io/service-name': 'pods', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

async function stopApiServer(): Promise<() => Promise<void>> {
  if (stopCmd !== undefined && startCmd !== undefined) {
    execSync(stopCmd, { stdio: 'inherit' });
    return () => { execSync(startCmd, { stdio: 'inherit' }); return Promise.resolve(); };
  }
  return crashProcess('kubernetes', 'kube-apiserver');
}

describe.skipIf(env === undefined)('kubernetes API server restart while the bridge runs', () => {
  const e = env!;
  let ns = '';
  const vm = new MemoryRegistry();
  const target = new MemoryRegistry();
  const abort = new AbortController();
  let engine: Engine;
  let source: KubernetesSource;

  beforeAll(async () => {
    ns = await testNamespace(e, 'outage');
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'pods' }, spec: { selector: { app: 'pods' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, podSlice(['10.244.9.1', '10.244.9.2']));
    for (const i of [1, 2]) vm.putEndpoint({ namespace: 'public', name: 'vmsvc' }, vmEp(i));
  });
  afterAll(async () => {
    await engine.stop();
    abort.abort();
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  it('freezes during the outage, deletes nothing, and converges after', async () => {
    const opts = k8sOptions({ namespaces: [ns], resyncBackoffMs: { min: 200, max: 2000 } });
    source = new KubernetesSource('k8s', client(e), opts);
    await source.start(abort.signal);
    const vmSource = new MemorySource('vm', vm);
    await vmSource.start(abort.signal);
    const sink = new KubernetesSink('k8s', client(e), opts, 'it-outage');
    await sink.start(abort.signal);
    const routes: Route[] = [
      { id: 'k8s->target', from: ['k8s'], to: 'target', select: {}, map: {}, policy: DEFAULT_POLICY },
      { id: 'vm->k8s', from: ['vm'], to: 'k8s', select: {}, map: { namespace: ns }, policy: DEFAULT_POLICY },
    ];
    engine = new Engine({ bridgeId: 'it-outage', sources: [source, vmSource], sinks: [new MemorySink('target', target, 'it-outage'), sink], routes, quietMs: 5, maxDelayMs: 50, retry: { maxMs: 2000 } });
    engine.start();
    await engine.whenIdle();
    const podsRef = { namespace: ns, name: 'pods' };
    await vi.waitFor(() => { expect(target.service(podsRef)?.endpoints.size).toBe(2); }, { timeout: 15_000 });
    const slices = async () => ((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=isthmus.dev%2Fmanaged-by%3Dit-outage`)).items ?? []).flatMap((s) => (s.endpoints as { addresses: string[] }[]).map((x) => x.addresses[0])).sort();
    expect(await slices()).toEqual(['10.70.0.1', '10.70.0.2']);

    const startApiServer = await stopApiServer();
    const stoppedAt = Date.now();
    await vi.waitFor(() => { expect(source.health().reachable).toBe(false); }, { timeout: 30_000, interval: 50 });
    vm.putEndpoint({ namespace: 'public', name: 'vmsvc' }, vmEp(3)); // must wait for the server
    // Listing our own records fails now too; the resync of source keys still runs first.
    await engine.resync().catch(() => undefined);
    await vi.waitFor(() => { expect(Date.now() - stoppedAt).toBeGreaterThan(3000); }, { timeout: 10_000, interval: 200 });
    expect(target.service(podsRef)?.endpoints.size).toBe(2); // frozen, not deleted

    await startApiServer();
    await vi.waitFor(async () => { expect((await api(e, 'GET', '/readyz')).status).toBe(200); }, { timeout: 60_000, interval: 250 });
    await vi.waitFor(() => { expect(source.health().reachable).toBe(true); }, { timeout: 30_000, interval: 50 });
    console.log(`kubernetes source reachable again ${Date.now() - stoppedAt} ms after the stop`);
    await vi.waitFor(async () => { expect(await slices()).toEqual(['10.70.0.1', '10.70.0.2', '10.70.0.3']); }, { timeout: 30_000, interval: 100 });
    const current = await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/pods-abc`);
    await must(e, 'PUT', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices/pods-abc`, podSlice(['10.244.9.1', '10.244.9.2', '10.244.9.3'], (current.metadata as { resourceVersion: string }).resourceVersion));
    await vi.waitFor(() => { expect(target.service(podsRef)?.endpoints.size).toBe(3); }, { timeout: 30_000, interval: 50 });
  });
});
