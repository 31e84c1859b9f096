// The adapter contract suite against the real Eureka of the harness (Spring Cloud Netflix server,
// test-speed timings: no read-only response cache, 1 s eviction, no self-preservation).
import type { Source } from '../../bridge/ports/index.ts';
import { contractEndpoint, describeAdapterContract, type ContractHarness } from '../../adapters/contract/index.ts';
import { createEurekaSink, createEurekaSource, eurekaClient, type EurekaClient } from '../../adapters/eureka/index.ts';
import { TcpProxy, proxiedOutages } from './tcp-proxy.ts';
import { NativeEureka, ctx, eurekaOptions, runId, sharedEureka } from './eureka-support.ts';

async function makeHarness(): Promise<ContractHarness> {
  const base = await sharedEureka();
  const run = runId();
  const abort = new AbortController();
  const clients: EurekaClient[] = [];
  const proxies: TcpProxy[] = [];
  const proxyOf = new Map<Source, TcpProxy>();
  const app = new NativeEureka(base);

  return {
    ref: (name) => ({ namespace: 'default', name: `ct-${run}-${name}` }),
    endpoint: (i, origin) => contractEndpoint(i, origin),
    sink: async (bridgeId) => {
      const o = eurekaOptions(base);
      const client = eurekaClient(o, ctx('eureka', bridgeId));
      clients.push(client);
      const sink = createEurekaSink(o, ctx('eureka', bridgeId), client);
      await sink.start(abort.signal);
      return sink;
    },
    source: async () => {
      const url = new URL(base);
      const proxy = await new TcpProxy(`http://${url.host}`).start();
      proxies.push(proxy);
      const o = eurekaOptions(`http://127.0.0.1:${proxy.port}${url.pathname}`, { services: [`ct-${run}-*`] });
      const source = createEurekaSource(o, ctx('eureka-src', 'contract-a'));
      proxyOf.set(source, proxy);
      await source.start(abort.signal);
      return source;
    },
    putNative: async (ref, ep) => { await app.register(ref, ep); },
    deleteNative: (ref, ep) => app.cancel(ref, ep),
    listAll: async (ref) => (await app.list(ref)).map((i) => i.ipAddr ?? ''),
    writes: () => clients.reduce((n, c) => n + c.writes, 0),
    ...proxiedOutages(proxyOf),
    close: async () => {
      abort.abort();
      await Promise.all(proxies.map((p) => p.cut()));
    },
  };
}

describeAdapterContract('eureka', makeHarness);
