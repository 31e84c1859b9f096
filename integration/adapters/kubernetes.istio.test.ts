// The Kubernetes sink's Istio mode against the real kube-apiserver with Istio's own CRDs
// (istio.io/api, through the Go module proxy): every object we emit passes the CRDs' server-side
// validation (dry run and real create), an invalid one is refused (so this test can fail), a
// second pass and a restarted sink write nothing, a split change rewrites only the
// VirtualService, a mode switch leaves one mode's objects, and cleanup removes exactly ours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesSink } from '../../adapters/kubernetes/index.ts';
import type { KubeSinkPlan } from '../../adapters/kubernetes/sink-plan.ts';
import { type Endpoint, type ServiceSnapshot, toDns1035 } from '../../bridge/model/index.ts';
import type { Split } from '../../bridge/sync/split.ts';
import { installIstioCrds } from '../istio/install.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const NET = '/apis/networking.istio.io/v1/namespaces';
const BRIDGE = 'it-istio';
type Obj = { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };

function ep(i: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: `10.70.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, zone: 'zone-a', metadata: {}, origin: { registry: 'nacos', nativeId: `vm-${i}` }, ...over };
}

describe.skipIf(env === undefined)('kubernetes sink, Istio mode', () => {
  const e = env!;
  let ns = '';
  const options = () => k8sOptions({ namespaces: [ns], sink: { istio: { enabled: true, services: ['*'], vipCidr: '240.240.0.0/16', region: 'eu-west', exportTo: ['*'] } } });
  const snap = (name: string, endpoints: Endpoint[], ports = [{ name: 'http', port: 8080 }]): ServiceSnapshot => ({ ref: { namespace: ns, name }, ports, endpoints, metadata: {}, origin: 'nacos' });
  const list = async (plural: string, selector = `isthmus.dev/managed-by=${BRIDGE}`): Promise<Obj[]> =>
    ((await must(e, 'GET', `${NET}/${ns}/${plural}?labelSelector=${encodeURIComponent(selector)}`)).items ?? []) as unknown as Obj[];
  const get = async (plural: string, name: string): Promise<Obj | undefined> => {
    const r = await api(e, 'GET', `${NET}/${ns}/${plural}/${name}`);
    return r.status === 200 ? (r.body as unknown as Obj) : undefined;
  };

  /** Plan; dry-run every Istio create server-side (under its own name) before writing for real. */
  async function pass(sink: KubernetesSink, desired: ServiceSnapshot | undefined, split?: Split): Promise<KubeSinkPlan> {
    const ref = desired?.ref ?? { namespace: ns, name: 'unused' };
    const plan = sink.plan(await sink.read(ref), desired, split === undefined ? {} : { split });
    for (const w of plan.istio?.upserts ?? []) {
      if (w.verb !== 'create') continue;
      const dry = await api(e, 'POST', `${NET}/${ns}/${w.resource.plural}?dryRun=All`, w.body);
      expect(dry.status, `${w.kind} dry run: ${JSON.stringify(dry.body).slice(0, 300)}`).toBe(201);
    }
    if (plan.operations.length > 0) await sink.execute(plan);
    return plan;
  }

  beforeAll(async () => {
    await installIstioCrds(e);
    ns = await testNamespace(e, 'istio');
  });
  afterAll(async () => {
    for (const plural of ['workloadentries', 'serviceentries', 'destinationrules', 'virtualservices']) await api(e, 'DELETE', `${NET}/${ns}/${plural}`);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`);
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  it('refuses invalid Istio objects server-side (the validation is real)', async () => {
    const bad = [
      ['serviceentries', { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'bad-se' }, spec: { hosts: ['x.example'], location: 'SOMEWHERE', resolution: 'STATIC', ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] } }],
      ['workloadentries', { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'bad-we' }, spec: { address: '10.0.0.1', ports: { http: 70000 } } }],
      ['destinationrules', { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'bad-dr' }, spec: { host: 'x', subsets: [{ name: 'vm', trafficPolicy: { tls: { mode: 'PLAINTEXT' } } }] } }],
      ['virtualservices', { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'bad-vs' }, spec: { hosts: ['x'], http: [{ route: [{ weight: 100 }] }] } }],
    ] as const;
    for (const [plural, body] of bad) expect((await api(e, 'POST', `${NET}/${ns}/${plural}?dryRun=All`, body)).status, plural).toBe(422);
  });

  it('VM-only service: WorkloadEntries, a ServiceEntry with a VIP, a DestinationRule; restart writes nothing', async () => {
    const c = client(e);
    const sink = new KubernetesSink('k8s', c, options(), BRIDGE);
    const dubbo = (i: number, over: Partial<Endpoint> = {}) => ep(i, { ports: { dubbo: 20880 }, protocol: 'dubbo', weight: 100 + i, ...over });
    const desired = snap('org.shop.OrderService', [dubbo(1), dubbo(2), dubbo(3, { ready: false, serving: false })], [{ name: 'dubbo', port: 20880 }]);
    const first = await pass(sink, desired);
    expect(first.operations.map((o) => o.record.split(' ')[0])).toEqual(['WorkloadEntry', 'WorkloadEntry', 'ServiceEntry', 'DestinationRule']);

    const svcName = toDns1035('org.shop.OrderService');
    const entries = await list('workloadentries');
    expect(entries.map((w) => w.spec['address']).sort()).toEqual(['10.70.0.1', '10.70.0.2']); // not ready = withdrawn
    for (const we of entries) {
      expect(we.spec['serviceAccount']).toBeUndefined();
      expect(we.metadata.labels?.['security.istio.io/tlsMode']).toBeUndefined();
      expect(we.spec['labels']).toEqual({ app: svcName, 'isthmus.dev/side': 'vm' });
      expect(we.spec['locality']).toBe('eu-west/zone-a');
      expect(we.spec['ports']).toEqual({ dubbo: 20880 });
    }
    const se = await get('serviceentries', `${svcName}-isthmus`);
    expect(se?.spec).toMatchObject({ hosts: [`${svcName}.${ns}.svc.cluster.local`], location: 'MESH_INTERNAL', resolution: 'STATIC', exportTo: ['*'], workloadSelector: { labels: { app: svcName, 'isthmus.dev/side': 'vm' } }, ports: [{ number: 20880, name: 'dubbo', protocol: 'TCP' }] });
    expect((se?.spec['addresses'] as string[])[0]).toMatch(/^240\.240\./);
    const dr = await get('destinationrules', `${svcName}-isthmus`);
    expect(dr?.spec['subsets']).toEqual([
      { name: 'vm', labels: { 'isthmus.dev/side': 'vm' }, trafficPolicy: { tls: { mode: 'DISABLE' } } },
      { name: 'k8s', labels: { 'isthmus.dev/side': 'k8s' } },
    ]);
    expect(await get('virtualservices', `${svcName}-isthmus`)).toBeUndefined(); // nothing to split without pods

    const observed = (await sink.read(desired.ref)).observed;
    expect(observed?.endpoints.map((x) => x.address)).toEqual(['10.70.0.1', '10.70.0.2']); // what the deletion guard counts
    const writes = c.writes;
    expect((await pass(sink, desired)).operations).toEqual([]);
    const restarted = new KubernetesSink('k8s', client(e), options(), BRIDGE);
    expect((await pass(restarted, desired)).operations).toEqual([]);
    expect(c.writes).toBe(writes);

    // Empty: the entries go, the ServiceEntry stays (an add/delete is a full push to every sidecar).
    const emptied = await pass(sink, snap('org.shop.OrderService', [], []));
    expect(emptied.operations.every((o) => o.verb === 'delete' && o.record.startsWith('WorkloadEntry'))).toBe(true);
    expect(await get('serviceentries', `${svcName}-isthmus`)).toBeDefined();
    expect((await pass(sink, snap('org.shop.OrderService', [], []))).operations).toEqual([]);
  });

  it('selector Service: entries selected by it, a VirtualService with the split; a split change updates only the VirtualService', async () => {
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: { name: 'web', annotations: { 'isthmus.dev/accept-imports': 'true' } },
      spec: { selector: { app: 'web', tier: 'front' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    // A running pod carrying podSubsetLabels, so the pod share goes to the `k8s` subset
    // (kubernetes.istio-pods.test.ts covers pods without them).
    await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } }, [409]);
    const pod = await must(e, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name: 'web-1', labels: { app: 'web', tier: 'front', 'isthmus.dev/side': 'k8s' } }, spec: { containers: [{ name: 'app', image: 'app:test' }] } });
    await must(e, 'PUT', `/api/v1/namespaces/${ns}/pods/web-1/status`, { ...pod, status: { phase: 'Running' } });
    const c = client(e);
    const sink = new KubernetesSink('k8s', c, options(), BRIDGE);
    const desired = snap('web', [ep(11), ep(12, { weight: 300 })]);
    const first = await pass(sink, desired, { nacos: 90, k8s: 10 });
    expect(first.operations.map((o) => o.record.split(' ')[0])).toEqual(['WorkloadEntry', 'WorkloadEntry', 'DestinationRule', 'VirtualService']);
    const entries = await list('workloadentries', `isthmus.dev/managed-by=${BRIDGE},isthmus.dev/service=web`);
    expect(entries.map((w) => [w.spec['labels'], w.spec['ports'], w.spec['weight']])).toEqual(
      expect.arrayContaining([[{ app: 'web', tier: 'front', 'isthmus.dev/side': 'vm' }, { http: 8080 }, 3], [{ app: 'web', tier: 'front', 'isthmus.dev/side': 'vm' }, { http: 8080 }, 1]]),
    );
    expect(await get('serviceentries', 'web-isthmus')).toBeUndefined(); // the Service holds the host
    const host = `web.${ns}.svc.cluster.local`;
    const vs = await get('virtualservices', 'web-isthmus');
    expect(vs?.spec['http']).toEqual([{ name: 'isthmus-split', route: [{ destination: { host, subset: 'vm' }, weight: 90 }, { destination: { host, subset: 'k8s' }, weight: 10 }] }]);
    expect(vs?.spec['tcp']).toEqual([{ route: [{ destination: { host, subset: 'vm' }, weight: 90 }, { destination: { host, subset: 'k8s' }, weight: 10 }] }]);

    expect((await pass(sink, desired, { nacos: 90, k8s: 10 })).operations).toEqual([]);
    const shifted = await pass(sink, desired, { nacos: 30, k8s: 70 });
    expect(shifted.operations).toEqual([{ verb: 'update', record: `VirtualService ${ns}/web-isthmus` }]);
    expect(((await get('virtualservices', 'web-isthmus'))?.spec['http'] as { route: { weight: number }[] }[])[0]?.route.map((r) => r.weight)).toEqual([30, 70]);
    // No split: the VirtualService goes, entries and subsets stay.
    expect((await pass(sink, desired)).operations).toEqual([{ verb: 'delete', record: `VirtualService ${ns}/web-isthmus` }]);
  });

  it('switching a service between modes leaves only one mode\'s objects', async () => {
    const plain = new KubernetesSink('k8s', client(e), k8sOptions({ namespaces: [ns] }), BRIDGE);
    const desired = snap('switch', [ep(21), ep(22)]);
    await plain.apply(desired);
    const slices = async () => ((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=switch,isthmus.dev/managed-by=${BRIDGE}`)}`)).items ?? []).length;
    expect(await slices()).toBe(1);
    const meshed = new KubernetesSink('k8s', client(e), options(), BRIDGE);
    await pass(meshed, desired);
    expect(await slices()).toBe(0);
    expect((await api(e, 'GET', `/api/v1/namespaces/${ns}/services/switch`)).status).toBe(404);
    expect(await list('workloadentries', `isthmus.dev/managed-by=${BRIDGE},isthmus.dev/service=switch`)).toHaveLength(2);
    const back = new KubernetesSink('k8s', client(e), k8sOptions({ namespaces: [ns], sink: { istio: { enabled: true, services: ['other-*'] } } }), BRIDGE);
    await pass(back, desired);
    expect(await slices()).toBe(1);
    expect(await list('workloadentries', `isthmus.dev/managed-by=${BRIDGE},isthmus.dev/service=switch`)).toHaveLength(0);
    expect(await get('serviceentries', 'switch-isthmus')).toBeUndefined();
    await back.remove(desired.ref);
  });

  it('cleanup removes exactly ours: a foreign WorkloadEntry and another bridge\'s survive', async () => {
    await must(e, 'POST', `${NET}/${ns}/workloadentries`, { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'hand-made', labels: { app: 'web' } }, spec: { address: '10.70.9.9', labels: { app: 'web' } } });
    const other = new KubernetesSink('k8s', client(e), options(), 'it-istio-other');
    await pass(other, snap('theirs', [ep(31)]));
    const sink = new KubernetesSink('k8s', client(e), options(), BRIDGE);
    const refs = await sink.ownedRefs();
    expect(refs.map((r) => r.name).sort()).toEqual(['org.shop.OrderService', 'web']);
    for (const ref of refs) await sink.remove(ref);
    expect(await list('workloadentries')).toEqual([]);
    for (const plural of ['serviceentries', 'destinationrules', 'virtualservices']) expect(await list(plural)).toEqual([]);
    expect(await get('workloadentries', 'hand-made')).toBeDefined();
    expect(await list('workloadentries', 'isthmus.dev/managed-by=it-istio-other')).toHaveLength(1);
    expect((await api(e, 'GET', `/api/v1/namespaces/${ns}/services/web`)).status).toBe(200); // the user's Service is untouched
    expect(await sink.ownedRefs()).toEqual([]);
  });
});
