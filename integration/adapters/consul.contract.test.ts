// The adapter contract suite against the real Consul agent of the harness.
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import type { AdapterContext, Source } from '../../bridge/ports/index.ts';
import { describeAdapterContract, type ContractHarness } from '../../adapters/contract/index.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import type { ConsulClient, ConsulSink } from '../../adapters/consul/index.ts';
import { Value } from '@sinclair/typebox/value';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { TcpProxy, consulApi, deregisterOwnNodes, runId, sharedConsulUrl } from './consul-support.ts';
import { proxiedOutages } from './tcp-proxy.ts';

function options(address: string, extra: Partial<ConsulOptions>): ConsulOptions {
  return Value.Default(ConsulOptions, { address, minWatchIntervalMs: 0, maxBackoffMs: 1000, ...extra }) as ConsulOptions;
}

function ctx(registryId: string, bridgeId: string): AdapterContext {
  return { registryId, bridgeId, logger: SILENT_LOGGER };
}

async function makeHarness(): Promise<ContractHarness> {
  const base = await sharedConsulUrl();
  const run = runId();
  const abort = new AbortController();
  const sinkClients: ConsulClient[] = [];
  const nodes = new Set<string>();
  const natives = new Set<string>();
  const proxies: TcpProxy[] = [];
  const proxyOf = new Map<Source, TcpProxy>();
  const nativeId = (ref: ServiceRef, ep: Endpoint): string => `${ref.name}-${ep.address}-${Object.values(ep.ports)[0] ?? 0}`;

  return {
    ref: (name) => ({ namespace: 'default', name: `ct-${run}-${name}` }),
    endpoint: (i, origin) => ({
      address: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      ports: { http: 8080 },
      ready: true,
      serving: true,
      terminating: false,
      weight: 100,
      metadata: { idx: String(i) },
      origin: { registry: origin, nativeId: `i-${i}` },
    }),
    sink: async (bridgeId) => {
      // A node per harness run keeps parallel or leftover runs apart on the shared agent.
      const nodeName = `isthmus-${bridgeId}-${run}`;
      nodes.add(nodeName);
      const { client, sink } = createConsul(options(base, { nodeName }), ctx('consul', bridgeId));
      sinkClients.push(client);
      await sink.start(abort.signal);
      return sink satisfies ConsulSink;
    },
    source: async () => {
      const proxy = await new TcpProxy(base).start();
      proxies.push(proxy);
      const { source } = createConsul(options(proxy.url, { services: [`ct-${run}-*`] }), ctx('consul-src', 'contract-a'));
      proxyOf.set(source, proxy);
      await source.start(abort.signal);
      return source;
    },
    putNative: async (ref, ep) => {
      const id = nativeId(ref, ep);
      natives.add(id);
      // As a VM application registers: through its local agent, no Isthmus markers.
      await consulApi(base, 'PUT', '/v1/agent/service/register', {
        ID: id,
        Name: ref.name,
        Address: ep.address,
        Port: Object.values(ep.ports)[0],
        Meta: ep.metadata,
      });
    },
    deleteNative: async (ref, ep) => {
      const id = nativeId(ref, ep);
      natives.delete(id);
      await consulApi(base, 'PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
    },
    listAll: async (ref) => {
      const entries = await consulApi<{ ServiceAddress: string; Address: string }[]>(base, 'GET', `/v1/catalog/service/${encodeURIComponent(ref.name)}`);
      return entries.map((e) => (e.ServiceAddress === '' ? e.Address : e.ServiceAddress));
    },
    writes: () => sinkClients.reduce((n, c) => n + c.writes, 0),
    ...proxiedOutages(proxyOf),
    close: async () => {
      abort.abort();
      await Promise.all(proxies.map((p) => p.cut()));
      for (const id of natives) await consulApi(base, 'PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
      for (const node of nodes) await deregisterOwnNodes(base, node);
    },
  };
}

describeAdapterContract('consul', makeHarness);
