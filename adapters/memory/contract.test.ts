import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { endpointKey } from '../../bridge/model/index.ts';
import type { Source } from '../../bridge/ports/index.ts';
import { contractEndpoint, describeAdapterContract } from '../contract/index.ts';
import { MemoryRegistry } from './registry.ts';
import { MemorySink } from './sink.ts';
import { MemorySource } from './source.ts';

// The memory adapter runs the same contract every real adapter runs against its server.
describeAdapterContract('memory', () => {
  const registry = new MemoryRegistry();
  const abort = new AbortController();
  const sinks: MemorySink[] = [];
  let nativeWrites = 0;
  return Promise.resolve({
    rendersAllMetadata: true,
    ref: (name: string): ServiceRef => ({ namespace: 'contract', name }),
    endpoint: (i: number, origin: string): Endpoint => contractEndpoint(i, origin),
    sink: (bridgeId: string) => {
      const s = new MemorySink('memory', registry, bridgeId);
      sinks.push(s);
      return Promise.resolve(s);
    },
    source: async () => {
      const s = new MemorySource('memory', registry);
      await s.start(abort.signal);
      return s;
    },
    putNative: (ref: ServiceRef, ep: Endpoint) => {
      nativeWrites++;
      registry.putEndpoint(ref, ep);
      return Promise.resolve();
    },
    deleteNative: (ref: ServiceRef, ep: Endpoint) => {
      nativeWrites++;
      registry.deleteEndpoint(ref, endpointKey(ep));
      return Promise.resolve();
    },
    listAll: (ref: ServiceRef) => Promise.resolve([...(registry.service(ref)?.endpoints.values() ?? [])].map((e) => e.endpoint.address)),
    writes: () => registry.writes - nativeWrites,
    cutOff: (source: Source) => {
      if (source instanceof MemorySource) source.disconnect();
      return Promise.resolve(() => Promise.resolve());
    },
    dropWatch: (source: Source) => {
      if (source instanceof MemorySource) source.reconnect();
      return Promise.resolve();
    },
    close: () => {
      abort.abort();
      return Promise.resolve();
    },
  });
});
