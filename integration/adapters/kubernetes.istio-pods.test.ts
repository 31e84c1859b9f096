// The Istio mode's pod subset safety net against the real kube-apiserver, driven by the real
// engine: while no running pod of the Service carries podSubsetLabels, the VirtualService sends
// the pod share to the Service host without a subset (an empty `k8s` subset fails those calls)
// and status reports it for the service; labelling a pod restores the subsets at the next pass
// with one write. One pod list per read of the Service-selected service, none for a VM-only one.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesSink } from '../../adapters/kubernetes/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { DEFAULT_POLICY, type Endpoint, type Route } from '../../bridge/model/index.ts';
import { Engine, Weights } from '../../bridge/sync/index.ts';
import { installIstioCrds } from '../istio/install.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const BRIDGE = 'it-istio-pods';
const WAIT = { timeout: 20_000, interval: 100 };
type Route2 = { destination: { host: string; subset?: string }; weight: number };

function ep(i: number): Endpoint {
  return { address: `10.73.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'nacos', nativeId: `vm-${i}` } };
}

describe.skipIf(env === undefined)('Istio mode: pods without podSubsetLabels', () => {
  const e = env!;
  let ns = '';
  const abort = new AbortController();
  let engine: Engine | undefined;
  beforeAll(async () => {
    await installIstioCrds(e);
    ns = await testNamespace(e, 'istio-pods');
  });
  afterAll(async () => {
    abort.abort();
    await engine?.stop();
    for (const plural of ['workloadentries', 'serviceentries', 'destinationrules', 'virtualservices']) await api(e, 'DELETE', `/apis/networking.istio.io/v1/namespaces/${ns}/${plural}`);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`);
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  /** A pod of the app, Running unless `pending`; the ServiceAccount admission needs `default`. */
  async function pod(name: string, labels: Record<string, string>, pending = false): Promise<void> {
    await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } }, [409]);
    await must(e, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name, labels }, spec: { containers: [{ name: 'app', image: 'app:test' }] } });
    if (pending) return;
    const body = await must(e, 'GET', `/api/v1/namespaces/${ns}/pods/${name}`);
    await must(e, 'PUT', `/api/v1/namespaces/${ns}/pods/${name}/status`, { ...body, status: { phase: 'Running', podIP: '10.73.1.1', podIPs: [{ ip: '10.73.1.1' }] } });
  }

  it('routes the pod share to the host and says so in status until a pod is labelled; then the split, one write', async () => {
    const ref = { namespace: ns, name: 'web' };
    const legacy = { namespace: ns, name: 'legacy' };
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'web', annotations: { 'isthmus.dev/accept-imports': 'true' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    await pod('web-1', { app: 'web' }); // running, without the label
    await pod('web-2', { app: 'web', 'isthmus.dev/side': 'k8s' }, true); // labelled, but not running: no endpoint either
    const vms = new MemoryRegistry();
    for (const i of [1, 2]) vms.putEndpoint(ref, ep(i));
    vms.putEndpoint(legacy, ep(9)); // VM-only (no Service): a ServiceEntry, no VirtualService, no pod list
    const source = new MemorySource('nacos', vms);
    await source.start(abort.signal);
    const c = client(e);
    const podLists = vi.spyOn(c, 'listPods');
    const sink = new KubernetesSink('k8s', c, k8sOptions({ namespaces: [ns], sink: { istio: { enabled: true } } }), BRIDGE);
    await sink.start(abort.signal);
    const weights = new Weights({ [`${ns}/web`]: { nacos: 70, k8s: 30 } });
    const route: Route = { id: 'nacos->k8s', from: ['nacos'], to: 'k8s', select: {}, map: {}, policy: DEFAULT_POLICY };
    engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [route], weights, quietMs: 5, maxDelayMs: 50 });
    engine.start();

    const host = `web.${ns}.svc.cluster.local`;
    const vsRoutes = async (): Promise<{ http: Route2[]; tcp: Route2[] } | undefined> => {
      const vs = await api(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices/web-isthmus`);
      if (vs.status !== 200) return undefined;
      const spec = vs.body['spec'] as { http: { route: Route2[] }[]; tcp: { route: Route2[] }[] };
      return { http: spec.http[0]?.route ?? [], tcp: spec.tcp[0]?.route ?? [] };
    };
    const fallback = [{ destination: { host, subset: 'vm' }, weight: 70 }, { destination: { host }, weight: 30 }];
    await vi.waitFor(async () => { expect(await vsRoutes()).toEqual({ http: fallback, tcp: fallback }); }, WAIT);
    await engine.whenIdle();

    // The notice: a sink refusal of this service, in the summary (GET /v1/status) and in explain (`isthmus status ns/web`).
    const notice = { registry: 'k8s', ref, nativeId: `VirtualService ${ns}/web-isthmus subset k8s` };
    const summary = engine.summary().quarantined.filter((q) => q.registry === 'k8s');
    expect(summary).toEqual([expect.objectContaining(notice)]);
    expect(summary[0]?.reason).toContain(`no running pod of Service ${ns}/web carries the pod subset labels isthmus.dev/side=k8s`);
    expect(summary[0]?.reason).toContain("pods' 30 % of calls goes to the Service host without a subset");
    expect(engine.explain(ref).quarantined).toEqual(summary);
    expect(engine.explain(legacy).quarantined).toEqual([]);

    // A resync that finds nothing changed writes nothing and keeps the notice.
    let writes = c.writes;
    await engine.resync();
    await engine.whenIdle();
    expect(c.writes).toBe(writes);
    expect(engine.explain(ref).quarantined.map((q) => q.nativeId)).toEqual([notice.nativeId]);
    // The cost: one pod list (limit 1) per read of the Service-selected service, none for the VM-only one.
    let lists = podLists.mock.calls.length;
    await sink.read(ref);
    expect(podLists.mock.calls.slice(lists)).toEqual([[ns, 'app=web,isthmus.dev/side=k8s', 'status.phase=Running', 1]]);
    lists = podLists.mock.calls.length;
    await sink.read(legacy);
    expect(podLists.mock.calls.length).toBe(lists);

    // The label added to the running pod: the next pass (here a resync) restores the subsets, one write, no notice.
    const patched = await api(e, 'PATCH', `/api/v1/namespaces/${ns}/pods/web-1`, { metadata: { labels: { 'isthmus.dev/side': 'k8s' } } }, e.token, 'application/merge-patch+json');
    expect(patched.status).toBe(200);
    writes = c.writes;
    await engine.resync();
    await engine.whenIdle();
    const split = [{ destination: { host, subset: 'vm' }, weight: 70 }, { destination: { host, subset: 'k8s' }, weight: 30 }];
    expect(await vsRoutes()).toEqual({ http: split, tcp: split });
    expect(c.writes - writes).toBe(1);
    expect(engine.summary().quarantined.filter((q) => q.registry === 'k8s')).toEqual([]);
  });
});
