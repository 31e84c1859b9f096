import type { Endpoint } from '../../bridge/model/index.ts';
import type { AdapterKind } from '../../bridge/ports/index.ts';
import { MemoryOptions } from './options.ts';
import { MemoryRegistry } from './registry.ts';
import { MemorySink } from './sink.ts';
import { MemorySource } from './source.ts';

export { MemoryRegistry, type StoredEndpoint, type StoredService } from './registry.ts';
export { MemorySource } from './source.ts';
export { MemorySink } from './sink.ts';
export { MemoryOptions } from './options.ts';

/** `kind: memory`: an in-process registry seeded from config; both a source and a sink. */
export const memoryAdapter: AdapterKind = {
  kind: 'memory',
  optionsSchema: MemoryOptions,
  canSource: true,
  canSink: true,
  create(options, ctx) {
    const opts = options as MemoryOptions;
    const registry = new MemoryRegistry();
    for (const svc of opts.services) {
      const ref = { namespace: svc.namespace, name: svc.name };
      registry.upsertService(ref, [{ name: svc.portName, port: svc.endpoints[0]?.port ?? 80 }], svc.metadata);
      for (const e of svc.endpoints) {
        const endpoint: Endpoint = {
          address: e.address,
          ports: { [svc.portName]: e.port },
          ready: e.ready,
          serving: e.ready,
          terminating: false,
          weight: e.weight,
          metadata: e.metadata,
          origin: { registry: ctx.registryId, nativeId: `${e.address}:${e.port}` },
          ...(e.zone === undefined ? {} : { zone: e.zone }),
        };
        registry.putEndpoint(ref, endpoint);
      }
    }
    return {
      source: new MemorySource(ctx.registryId, registry),
      sink: new MemorySink(ctx.registryId, registry, ctx.bridgeId),
      close: () => Promise.resolve(),
    };
  },
};
