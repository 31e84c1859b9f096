// The adapter contract suite against the real Nacos of the harness (3.x, gRPC SDK protocol).
import type { Source } from '../../bridge/ports/index.ts';
import { contractEndpoint, describeAdapterContract, type ContractHarness } from '../../adapters/contract/index.ts';
import { createNacosSink, createNacosSource, nacosConnection } from '../../adapters/nacos/index.ts';
import type { NacosConnection } from '../../adapters/nacos/index.ts';
import { TcpProxy, proxiedOutages } from './tcp-proxy.ts';
import { NativeApp, ctx, nacosOptions, nativeInstance, runId, sharedNacos } from './nacos-support.ts';

async function makeHarness(): Promise<ContractHarness> {
  const server = await sharedNacos();
  const run = runId();
  const abort = new AbortController();
  const sinkConns: NacosConnection[] = [];
  const proxies: TcpProxy[] = [];
  const proxyOf = new Map<Source, TcpProxy>();
  const app = new NativeApp(server);

  return {
    ref: (name) => ({ namespace: 'default', name: `ct-${run}-${name}` }),
    endpoint: (i, origin) => contractEndpoint(i, origin),
    sink: async (bridgeId) => {
      const o = nacosOptions(server);
      const conn = nacosConnection(o, ctx('nacos', bridgeId));
      sinkConns.push(conn);
      const sink = createNacosSink(o, ctx('nacos', bridgeId), conn);
      await sink.start(abort.signal);
      return sink;
    },
    source: async () => {
      const proxy = await new TcpProxy(`tcp://${server.host}:${server.httpPort + 1000}`).start();
      proxies.push(proxy);
      // The proxy stands in for the gRPC port: shift the offset so main port + offset = proxy.
      const o = nacosOptions(server, { services: [`ct-${run}-*`], grpcPortOffset: proxy.port - server.httpPort });
      const source = createNacosSource(o, ctx('nacos-src', 'contract-a'));
      proxyOf.set(source, proxy);
      await source.start(abort.signal);
      return source;
    },
    putNative: (ref, ep) => app.put(ref, nativeInstance(ep)),
    deleteNative: (ref, ep) => app.delete(ref, ep.address),
    listAll: async (ref) => (await app.list(ref)).map((i) => i.ip),
    writes: () => sinkConns.reduce((n, c) => n + c.writes, 0),
    ...proxiedOutages(proxyOf),
    close: async () => {
      abort.abort();
      app.close();
      await Promise.all(proxies.map((p) => p.cut()));
    },
  };
}

describeAdapterContract('nacos', makeHarness);
