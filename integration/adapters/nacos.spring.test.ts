// A service registered the way Spring Cloud Alibaba registers it (ephemeral, over the 2.x+ SDK
// gRPC protocol, metadata preserved.register.source=SPRING_CLOUD) gets exported pod endpoints
// added: Nacos lists the union, our markers sit only on ours, a draining pod turns
// enabled=false, and the Nacos source still imports only the Spring instances.
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import { createNacosSink, createNacosSource } from '../../adapters/nacos/index.ts';
import { NativeApp, ctx, nacosOptions, runId, sharedNacos } from './nacos-support.ts';

const WAIT = { timeout: 30_000, interval: 100 };

function pod(i: number, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    address: `10.244.0.${i}`,
    ports: { http: 8080 },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: { 'app.kubernetes.io/name': 'orders' },
    origin: { registry: 'k8s', nativeId: `shop/orders-${i}` },
    ...extra,
  };
}

describe('nacos sink: exporting pods into a Spring Cloud Alibaba service', () => {
  const name = `spring-orders-${runId()}`;
  const ref = { namespace: 'default', name };
  const abort = new AbortController();
  const engines: Engine[] = [];
  let app: NativeApp | undefined;

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    abort.abort();
    app?.close();
  });

  it('lists the union, with markers only on ours, and drains with enabled=false', async () => {
    const server = await sharedNacos();
    app = new NativeApp(server);
    for (const port of [18080, 18081]) {
      await app.put(ref, {
        ip: '192.168.10.5',
        port,
        weight: 1,
        healthy: true,
        enabled: true,
        ephemeral: true,
        clusterName: 'DEFAULT',
        metadata: { 'preserved.register.source': 'SPRING_CLOUD', secure: 'false', 'management.port': String(port + 1000) },
      });
    }
    const pods = new MemoryRegistry();
    for (const i of [1, 2, 3]) pods.putEndpoint(ref, pod(i));
    const k8s = new MemorySource('k8s', pods);
    await k8s.start(abort.signal);
    const o = nacosOptions(server, { services: [name] });
    const sink = createNacosSink(o, ctx('nacos', 'spring-bridge'));
    await sink.start(abort.signal);
    const source = createNacosSource(o, ctx('nacos', 'spring-bridge'));
    await source.start(abort.signal);
    const vmSide = new MemoryRegistry();
    const engine = new Engine({
      bridgeId: 'spring-bridge',
      sources: [k8s, source],
      sinks: [sink, new MemorySink('k8s-import', vmSide, 'spring-bridge')],
      routes: [
        { id: 'k8s->nacos', from: ['k8s'], to: 'nacos', select: {}, map: {}, policy: DEFAULT_POLICY },
        { id: 'nacos->k8s', from: ['nacos'], to: 'k8s-import', select: {}, map: {}, policy: DEFAULT_POLICY },
      ],
      quietMs: 5,
      maxDelayMs: 50,
    });
    engines.push(engine);
    engine.start();

    await vi.waitFor(async () => { expect((await app!.list(ref, 0)).length).toBe(5); }, WAIT);
    const all = await app.list(ref);
    const ours = all.filter((i) => i.metadata?.['isthmus.managed-by'] !== undefined);
    const spring = all.filter((i) => i.metadata?.['preserved.register.source'] === 'SPRING_CLOUD');
    expect(ours.map((i) => i.ip).sort()).toEqual(['10.244.0.1', '10.244.0.2', '10.244.0.3']);
    expect(spring).toHaveLength(2);
    for (const i of spring) expect(Object.keys(i.metadata ?? {}).some((k) => k.startsWith('isthmus.'))).toBe(false);
    for (const i of ours) {
      expect(i).toMatchObject({ ephemeral: true, healthy: true, enabled: true, weight: 1, clusterName: 'DEFAULT' });
      expect(i.metadata).toMatchObject({ 'isthmus.managed-by': 'spring-bridge', 'isthmus.origin': 'k8s', 'app.kubernetes.io/name': 'orders' });
    }

    // The reverse route imports the Spring instances only: never our own exports (no loop).
    await vi.waitFor(() => { expect(vmSide.service(ref)?.endpoints.size).toBe(2); }, WAIT);
    const imported = [...(vmSide.service(ref)?.endpoints.values() ?? [])].map((e) => e.endpoint);
    expect(imported.every((e) => e.address === '192.168.10.5' && e.protocol === 'http' && e.ports['management'] === e.ports['http']! + 1000)).toBe(true);

    // A pod starts draining: Nacos clients stop picking it (enabled=false drops it from their lists).
    pods.putEndpoint(ref, pod(2, { ready: false, terminating: true }));
    await vi.waitFor(async () => { expect((await app!.list(ref, 0)).map((i) => i.ip)).not.toContain('10.244.0.2'); }, WAIT);
    expect((await app.list(ref)).length).toBe(4);
    expect((await sink.observe(ref))?.endpoints.find((e) => e.address === '10.244.0.2')).toMatchObject({ serving: true, terminating: true });
  });
});
