// ContractHarness for Kubernetes: native records are what the EndpointSlice controller (or a user
// with a selectorless Service) would create — a Service without Isthmus markers and slices
// managed by someone else. Each source gets its own TCP proxy so it can be cut off alone.
import { createHash } from 'node:crypto';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { Value } from '@sinclair/typebox/value';
import type { ContractHarness } from '../../adapters/contract/index.ts';
import { KubeClient, KubernetesOptions, KubernetesSink, KubernetesSource } from '../../adapters/kubernetes/index.ts';
import { api, cleanupNamespace, type KubeTestEnv, must, TcpProxy, testNamespace } from './kubernetes-env.ts';
import type { Source } from '../../bridge/ports/index.ts';

/** Options with defaults applied, as the config loader would hand them to the adapter. */
export function k8sOptions(partial: Record<string, unknown>): KubernetesOptions {
  return Value.Default(KubernetesOptions, Value.Clone(partial)) as KubernetesOptions;
}

export function client(env: KubeTestEnv, server = env.server, token = env.token): KubeClient {
  return KubeClient.connect({ server, token, caFile: env.caFile });
}

const NATIVE_CONTROLLER = 'native-test.isthmus.dev';

function nativeSliceName(ref: ServiceRef, address: string): string {
  return `${ref.name}-native-${createHash('sha256').update(address).digest('hex').slice(0, 8)}`;
}

/** A selectorless Service with no Isthmus markers, as a user would create it (idempotent). */
export async function putNativeService(env: KubeTestEnv, ref: ServiceRef, ports: Record<string, number>, annotations: Record<string, string> = {}): Promise<void> {
  await must(env, 'POST', `/api/v1/namespaces/${ref.namespace}/services`, {
    metadata: { name: ref.name, annotations },
    spec: { ports: Object.entries(ports).map(([name, port]) => ({ name, port, targetPort: port })) },
  }, [409]);
}

export async function makeHarness(env: KubeTestEnv): Promise<ContractHarness> {
  const ns = await testNamespace(env, 'contract');
  const abort = new AbortController();
  const sinkClients: KubeClient[] = [];
  const proxies = new Map<Source, TcpProxy>();
  const options = k8sOptions({ namespaces: [ns], sink: { mixed: 'always' }, resyncBackoffMs: { min: 100, max: 1000 } });
  return {
    ref: (name) => ({ namespace: ns, name }),
    endpoint: (i: number, origin: string): Endpoint => ({
      address: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      ports: { http: 8080 },
      ready: true,
      serving: true,
      terminating: false,
      weight: 100,
      zone: 'zone-a',
      node: `vm-${i}`,
      metadata: { idx: String(i) },
      origin: { registry: origin, nativeId: `i-${i}` },
    }),
    sink: async (bridgeId) => {
      const c = client(env);
      sinkClients.push(c);
      const sink = new KubernetesSink('k8s', c, options, bridgeId);
      await sink.start(abort.signal);
      return sink;
    },
    source: async () => {
      const proxy = await new TcpProxy(env.server).start();
      const source = new KubernetesSource('k8s', client(env, proxy.url), options);
      proxies.set(source, proxy);
      await source.start(abort.signal);
      return source;
    },
    putNative: async (ref, ep) => {
      await putNativeService(env, ref, ep.ports);
      const name = nativeSliceName(ref, ep.address);
      const body = {
        metadata: { name, labels: { 'kubernetes.io/service-name': ref.name, 'endpointslice.kubernetes.io/managed-by': NATIVE_CONTROLLER } },
        addressType: 'IPv4',
        ports: Object.entries(ep.ports).map(([n, p]) => ({ name: n, port: p, protocol: 'TCP' })),
        endpoints: [{ addresses: [ep.address], conditions: { ready: ep.ready, serving: ep.serving, terminating: ep.terminating } }],
      };
      await must(env, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ref.namespace}/endpointslices`, body);
    },
    deleteNative: async (ref, ep) => {
      await must(env, 'DELETE', `/apis/discovery.k8s.io/v1/namespaces/${ref.namespace}/endpointslices/${nativeSliceName(ref, ep.address)}`, undefined, [404]);
    },
    listAll: async (ref) => {
      const list = await must(env, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ref.namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${ref.name}`)}`);
      return (list.items ?? []).flatMap((s) => ((s.endpoints ?? []) as { addresses: string[] }[]).map((e) => e.addresses[0] ?? ''));
    },
    writes: () => sinkClients.reduce((n, c) => n + c.writes, 0),
    cutOff: async (source) => {
      const proxy = proxies.get(source);
      await proxy?.cut();
      return async () => { await proxy?.restore(); };
    },
    dropWatch: (source) => {
      proxies.get(source)?.drop();
      return Promise.resolve();
    },
    close: async () => {
      abort.abort();
      await Promise.all([...proxies.values()].map((p) => p.close()));
      await cleanupNamespace(env, ns);
      await api(env, 'DELETE', `/api/v1/namespaces/${ns}`);
    },
  };
}
