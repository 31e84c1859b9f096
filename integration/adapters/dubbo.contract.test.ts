// The adapter contract suite against the real ZooKeeper of the harness.
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import type { AdapterContext, Source } from '../../bridge/ports/index.ts';
import { contractEndpoint, describeAdapterContract, type ContractHarness } from '../../adapters/contract/index.ts';
import { createDubbo, parseDubboUrl, javaUrlDecode, javaUrlEncode, type ZkClient } from '../../adapters/dubbo/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { TcpProxy, proxiedOutages } from './tcp-proxy.ts';
import { ZkAdmin, dubboOptions, nativeProviderUrl, runId, sharedZooKeeper } from './dubbo-support.ts';

function ctx(registryId: string, bridgeId: string): AdapterContext {
  return { registryId, bridgeId, logger: SILENT_LOGGER };
}

async function makeHarness(): Promise<ContractHarness> {
  const zk = await sharedZooKeeper();
  const run = runId();
  // A root per run keeps parallel or leftover runs apart on the shared server.
  const roots = { root: `/ct-${run}`, servicesRoot: `/cts-${run}` };
  const admin = new ZkAdmin(zk);
  const abort = new AbortController();
  const clients: ZkClient[] = [];
  const sinkClients: ZkClient[] = [];
  const proxies: TcpProxy[] = [];
  const proxyOf = new Map<Source, TcpProxy>();
  const nativePath = (ref: ServiceRef, ep: Endpoint): string =>
    `${ref.name}|${nativeProviderUrl(ref.name, ep.address, Object.values(ep.ports)[0] ?? 0)}`;

  return {
    ref: (name) => ({ namespace: 'default', name: `com.example.ct${run}.${name}` }),
    endpoint: (i, origin) => contractEndpoint(i, origin, { dubbo: 20880 }),
    sink: async (bridgeId) => {
      // Persistent mode: the contract's "restart writes nothing" is about a bridge whose nodes
      // survive it; ephemeral nodes die with a session by design (see dubbo.session test).
      const { client, sink } = createDubbo(dubboOptions(zk, { ...roots, persistent: true }), ctx('zk', bridgeId));
      clients.push(client);
      sinkClients.push(client);
      await sink.start(abort.signal);
      return sink;
    },
    source: async () => {
      const proxy = await new TcpProxy(`tcp://${zk}`).start();
      proxies.push(proxy);
      const { client, source } = createDubbo(dubboOptions(`127.0.0.1:${proxy.port}`, roots), ctx('zk-src', 'contract-a'));
      clients.push(client);
      proxyOf.set(source, proxy);
      await source.start(abort.signal);
      return source;
    },
    putNative: async (ref, ep) => {
      const [iface = '', url = ''] = nativePath(ref, ep).split('|');
      await admin.putProvider(roots.root, iface, url);
    },
    deleteNative: async (ref, ep) => {
      const [iface = '', url = ''] = nativePath(ref, ep).split('|');
      await admin.remove(`${roots.root}/${javaUrlEncode(iface)}/providers/${javaUrlEncode(url)}`);
    },
    listAll: async (ref) => {
      const children = await admin.children(`${roots.root}/${javaUrlEncode(ref.name)}/providers`);
      return children.map((c) => {
        const parsed = parseDubboUrl(javaUrlDecode(c) ?? '');
        return parsed.ok ? parsed.url.host : `unparsable ${c}`;
      });
    },
    // A different interface list: new provider directories, a new MetadataInfo revision, new mappings.
    serviceMetadata: () => ({ 'isthmus.dev/dubbo-interfaces': `com.example.ct${run}.Alt:1.0.0,com.example.ct${run}.Alt2::blue` }),
    writes: () => sinkClients.reduce((n, c) => n + c.writes, 0),
    ...proxiedOutages(proxyOf),
    close: async () => {
      abort.abort();
      await Promise.all(proxies.map((p) => p.close()));
      for (const c of clients) c.close();
      await admin.removeTree(roots.root);
      await admin.removeTree(roots.servicesRoot);
      admin.close();
    },
  };
}

describeAdapterContract('dubbo', makeHarness);
