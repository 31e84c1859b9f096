// Dubbo ⇄ Kubernetes with the real kube-apiserver, real ZooKeeper and real Dubbo 3.3 peers:
// - a provider on a "VM" registers in ZooKeeper → a selectorless Service + EndpointSlice whose
//   port is named after the Dubbo protocol;
// - a provider registered nowhere, published by the test as an EndpointSlice of an annotated
//   Service → exported into ZooKeeper → the real consumer calls it (interface-level and
//   application-level discovery).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDubbo } from '../../adapters/dubbo/index.ts';
import { KubernetesSink, KubernetesSource } from '../../adapters/kubernetes/index.ts';
import type { Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { buildDubboPeers, freePort, startConsumer, startProvider, type DubboPeer } from '../peers/dubbo/peers.ts';
import { ZkAdmin, dubboOptions, runId, sharedZooKeeper } from './dubbo-support.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const GREETER = 'dev.isthmus.peers.Greeter';
const WAIT = { timeout: 120_000, interval: 250 };

interface SliceJson {
  metadata: { labels: Record<string, string> };
  ports: { name: string; port: number; appProtocol?: string }[];
  endpoints: { addresses: string[]; conditions: { ready?: boolean } }[];
}

describe.skipIf(env === undefined)('dubbo ⇄ kubernetes with real Dubbo peers', () => {
  const e = env!;
  const run = runId();
  const bridge = `dk-${run}`;
  let ns = '';
  let zk = '';
  let classpath = '';
  let admin: ZkAdmin;
  const peers: DubboPeer[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const abort = new AbortController();

  beforeAll(async () => {
    zk = await sharedZooKeeper();
    classpath = await buildDubboPeers((l) => { console.log(l); });
    admin = new ZkAdmin(zk);
    ns = await testNamespace(e, 'dubbo');
  }, 1_200_000);

  afterAll(async () => {
    abort.abort();
    await Promise.all(peers.map((p) => p.stop()));
    for (const c of cleanups.reverse()) await c();
    admin.close();
    if (ns !== '') {
      await cleanupNamespace(e, ns);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
  });

  it('imports a real VM provider as a Service + EndpointSlice with a port named after its protocol', async () => {
    const port = await freePort();
    peers.push(await startProvider(classpath, { id: `vm-${run}`, zk, port, group: run, app: `vm-provider-${run}`, registerMode: 'interface' }));
    const name = `greeter-${run}`;
    // Identity mapping: the interface key (interface::group) is given a Kubernetes name.
    const { client: zkClient, source } = createDubbo(dubboOptions(zk, { import: ['interface'], names: { [`${GREETER}::${run}`]: name } }), { registryId: 'zk', bridgeId: bridge, logger: SILENT_LOGGER });
    cleanups.push(() => { zkClient.close(); });
    await source.start(abort.signal);
    const sink = new KubernetesSink('k8s', client(e), k8sOptions({ namespaces: [ns] }), bridge);
    await sink.start(abort.signal);
    const route: Route = { id: 'zk->k8s', from: ['zk'], to: 'k8s', select: {}, map: { namespace: ns }, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: bridge, sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50 });
    cleanups.push(() => engine.stop());
    engine.start();

    const sel = encodeURIComponent(`kubernetes.io/service-name=${name}`);
    await vi.waitFor(async () => {
      const slices = ((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${sel}`)).items ?? []) as unknown as SliceJson[];
      expect(slices.flatMap((s) => s.endpoints)).toHaveLength(1);
      expect(slices[0]?.ports.map((p) => [p.name, p.port])).toEqual([['dubbo', port]]);
      expect(slices[0]?.endpoints[0]?.conditions.ready).toBe(true);
    }, WAIT);
    const svc = await must(e, 'GET', `/api/v1/namespaces/${ns}/services/${name}`);
    const spec = svc['spec'] as { selector?: unknown; ports: { name: string; port: number }[] };
    expect(spec.selector).toBeUndefined();
    expect(spec.ports.map((p) => [p.name, p.port])).toEqual([['dubbo', port]]);
  });

  it('exports a Kubernetes-only provider; the real consumer calls it in both discovery modes', async () => {
    const port = await freePort();
    const providerId = `pod-${run}`;
    peers.push(await startProvider(classpath, { id: providerId, zk: 'none', port, group: run, app: `pod-app-${run}` }));
    // What a user writes for a Dubbo provider running in pods: an annotated Service, and the
    // slice the EndpointSlice controller would make for its pod.
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, {
      metadata: {
        name: 'greeter',
        annotations: {
          'isthmus.dev/export': 'true',
          'isthmus.dev/dubbo-interfaces': GREETER,
          'isthmus.dev/dubbo-group': run,
          'isthmus.dev/dubbo-protocol': 'dubbo',
          'isthmus.dev/dubbo-application': `greeter-app-${run}`,
          'isthmus.dev/dubbo-methods': 'greet',
        },
      },
      spec: { ports: [{ name: 'dubbo', port, targetPort: port }] },
    });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: 'greeter-pods', labels: { 'kubernetes.io/service-name': 'greeter', 'endpointslice.kubernetes.io/managed-by': 'pod-test.isthmus.dev' } },
      addressType: 'IPv4',
      ports: [{ name: 'dubbo', port, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.7.7'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: 'greeter-0', namespace: ns } }],
    });
    // The apiserver refuses loopback endpoint addresses and this machine has no pod network, so
    // VMs reach the pod through a gateway address (DESIGN §5 address modes): 127.0.0.1 here,
    // where the provider listens.
    const source = new KubernetesSource('k8s', client(e), k8sOptions({ namespaces: [ns], source: { annotations: { 'isthmus.dev/export': 'true' }, addressMode: 'gateway', gateway: { address: '127.0.0.1', ports: {} } } }));
    await source.start(abort.signal);
    const { client: zkClient, sink } = createDubbo(dubboOptions(zk, {}), { registryId: 'zk', bridgeId: bridge, logger: SILENT_LOGGER });
    cleanups.push(() => { zkClient.close(); });
    await sink.start(abort.signal);
    const route: Route = { id: 'k8s->zk', from: ['k8s'], to: 'zk', select: {}, map: {}, policy: DEFAULT_POLICY };
    const engine = new Engine({ bridgeId: bridge, sources: [source], sinks: [sink], routes: [route], quietMs: 5, maxDelayMs: 50 });
    cleanups.push(() => engine.stop());
    engine.start();
    await vi.waitFor(async () => { expect(await admin.children(`/services/greeter-app-${run}`)).toEqual([`127.0.0.1:${port}`]); }, WAIT);
    // Persistent leftovers on the shared server (ephemeral nodes go with the sessions); runs last.
    cleanups.unshift(async () => {
      await admin.removeTree(`/services/greeter-app-${run}`);
      await admin.removeTree(`/dubbo/metadata/greeter-app-${run}`);
    });

    for (const mode of ['interface', 'application'] as const) {
      const consumer = await startConsumer(classpath, { zk, mode, rate: 5, group: run, app: `k8s-consumer-${mode}-${run}` });
      peers.push(consumer);
      const ok = await consumer.waitFor((l) => l.event === 'call' && l['ok'] === true, 180_000);
      expect(ok['reply'], mode).toMatch(new RegExp(`from ${providerId}$`));
      await consumer.stop();
    }
  }, 600_000);
});
