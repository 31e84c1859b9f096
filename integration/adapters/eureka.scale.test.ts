// Figures against the real Eureka (printed as JSON lines):
// - export: 1,000 endpoints in 10 services registered by the sink, then the steady request rate
//   the leases cost (renewals only) over one default 30 s renewal interval;
// - import: 1,000 instances in 100 applications, from a cold source to every service synced
//   (source cache), and through an Engine into the real API server when one is configured.
import { setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { KubernetesSink } from '../../adapters/kubernetes/index.ts';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { createEurekaSink, createEurekaSource, eurekaClient } from '../../adapters/eureka/index.ts';
import type { Endpoint, Route, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import type { Sink } from '../../bridge/ports/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { api, cleanupNamespace, kubeEnv, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';
import { NativeEureka, ctx, eurekaOptions, runId, sharedEureka } from './eureka-support.ts';

const env = kubeEnv();

function ep(service: number, i: number): Endpoint {
  return { address: `10.${90 + Math.floor(service / 100)}.${service % 100}.${i + 1}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `p${service}-${i}` } };
}

async function limited<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  }));
}

describe('eureka at 1,000 instances (real server)', () => {
  const run = runId();
  const abort = new AbortController();
  setMaxListeners(64, abort.signal);
  const engines: Engine[] = [];
  let ns = '';
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    abort.abort();
    if (env !== undefined && ns !== '') {
      await cleanupNamespace(env, ns);
      await api(env, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
  });

  it('export: 1,000 leases cost ~33 requests/s of renewals at the default 30 s interval', async () => {
    const base = await sharedEureka();
    const o = eurekaOptions(base);
    const c = eurekaClient(o, ctx('eureka', 'scale-bridge'));
    const sink = createEurekaSink(o, ctx('eureka', 'scale-bridge'), c);
    await sink.start(abort.signal);
    const refs: ServiceRef[] = Array.from({ length: 10 }, (_, s) => ({ namespace: 'default', name: `sx-${run}-${s}` }));
    const t0 = performance.now();
    // As the engine does: services in parallel (its workers), each service's writes in order.
    await limited(refs.map((ref, s) => ({ ref, s })), 4, async ({ ref, s }) => {
      await sink.apply({ ref, ports: [{ name: 'http', port: 8080 }], endpoints: Array.from({ length: 100 }, (_, i) => ep(s, i)), metadata: {}, origin: 'k8s' });
    });
    const registerMs = Math.round(performance.now() - t0);
    expect(sink.leaseCount()).toBe(1000);
    const writes = c.writes;
    const requests = c.requests;
    // One whole renewal interval: every lease renews exactly once in it (each on its own phase),
    // so its average is the steady rate; a second interval would only repeat the same count.
    const window = 30_000;
    await new Promise((r) => setTimeout(r, window));
    const perSecond = (c.requests - requests) / (window / 1000);
    console.log(JSON.stringify({ figure: 'eureka-export-1000', registerMs, registrations: writes, renewalsPerSecond: Math.round(perSecond * 10) / 10, renewIntervalSeconds: 30, renewConcurrency: o.renewConcurrency }));
    expect(c.writes - writes).toBe(0);
    expect(perSecond).toBeGreaterThan(25);
    expect(perSecond).toBeLessThan(45);
    await limited(refs, 4, (ref) => sink.remove(ref));
  }, 180_000);

  it('import: 1,000 instances in 100 applications, cold start to synced', async () => {
    const base = await sharedEureka();
    const native = new NativeEureka(base);
    const refs: ServiceRef[] = Array.from({ length: 100 }, (_, s) => ({ namespace: 'default', name: `si-${run}-${s}` }));
    await limited(refs.flatMap((ref, s) => Array.from({ length: 10 }, (_, i) => ({ ref, e: ep(s, i) }))), 16, async ({ ref, e }) => { await native.register(ref, e); });
    const source = createEurekaSource(eurekaOptions(base, { services: [`si-${run}-*`] }), ctx('eureka', 'scale-bridge'));
    const sinks: Sink[] = [];
    const memory = new MemoryRegistry();
    sinks.push(new MemorySink('memory', memory, 'scale-bridge'));
    let kube: KubernetesSink | undefined;
    if (env !== undefined) {
      ns = await testNamespace(env, 'eureka-scale');
      kube = new KubernetesSink('k8s', client(env), k8sOptions({ namespaces: [ns] }), 'scale-bridge');
      await kube.start(abort.signal);
      sinks.push(kube);
    }
    const routes: Route[] = [
      { id: 'eureka->memory', from: ['eureka'], to: 'memory', select: {}, map: {}, policy: DEFAULT_POLICY },
      ...(kube === undefined ? [] : [{ id: 'eureka->k8s', from: ['eureka'], to: 'k8s', select: {}, map: { namespace: ns }, policy: DEFAULT_POLICY } satisfies Route]),
    ];
    const t0 = performance.now();
    await source.start(abort.signal);
    const engine = new Engine({ bridgeId: 'scale-bridge', sources: [source], sinks, routes, quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, { timeout: 60_000, interval: 5 });
    const syncedMs = Math.round(performance.now() - t0);
    await vi.waitFor(() => { expect(memory.services().reduce((n, s) => n + s.endpoints.size, 0)).toBe(1000); }, { timeout: 60_000, interval: 10 });
    const memoryMs = Math.round(performance.now() - t0);
    await engine.whenIdle();
    const allMs = Math.round(performance.now() - t0);
    console.log(JSON.stringify({ figure: 'eureka-import-1000-in-100-apps', sourceSyncedMs: syncedMs, inMemoryTargetMs: memoryMs, ...(kube === undefined ? {} : { intoKubernetesMs: allMs }), fullFetches: source.fetches.full, hashMismatches: source.fetches.mismatches }));
    // One full fetch imports all 1,000. Another follows only a delta whose reconcile hash did not
    // match, as in Eureka's own client: other files register and cancel on the same server at the
    // same time, and its response cache can hand out a delta and a hash from different moments.
    expect(source.fetches.full - source.fetches.mismatches).toBe(1);
    await engine.stop();
    await limited(refs.flatMap((ref, s) => Array.from({ length: 10 }, (_, i) => ({ ref, e: ep(s, i) }))), 16, async ({ ref, e }) => { await native.cancel(ref, e); });
  }, 240_000);
});
