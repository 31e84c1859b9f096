// What users of a stock Eureka server get: a private server with the server's own timings (30 s
// read-only response cache, self-preservation on) and a bridge with the default Eureka options
// (5 s fetch). An instance going DOWN is measured twice: when a Eureka client could first see it
// (polling /apps/delta every 250 ms, as DiscoveryClient fetches it), and when its EndpointSlice
// says not ready.
// The bridge may add at most one fetch interval (plus slack) to what the server itself imposes.
import { setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { KubernetesSink } from '../../adapters/kubernetes/index.ts';
import { EurekaOptions, createEurekaSource } from '../../adapters/eureka/index.ts';
import type { Endpoint, Route } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY, conditionsOf } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { startPrivateEureka, type PrivateEureka } from '../servers/index.ts';
import { cleanupNamespace, api, kubeEnv, must, testNamespace } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';
import { NativeEureka, ctx, runId } from './eureka-support.ts';

const env = kubeEnv();
const BRIDGE = 'it-eureka-defaults';
/** The server's read-only cache refresh (30 s) plus our fetch interval (5 s), with slack. */
const WAIT = { timeout: 50_000, interval: 100 };

function ep(i: number): Endpoint {
  return { address: `10.86.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: `vm-${i}` } };
}

describe.skipIf(env === undefined)('eureka with the server\'s and the bridge\'s default timings', () => {
  const abort = new AbortController();
  setMaxListeners(32, abort.signal);
  let server: PrivateEureka | undefined;
  let engine: Engine | undefined;
  let ns = '';
  afterAll(async () => {
    await engine?.stop();
    abort.abort();
    await server?.stop();
    if (env !== undefined && ns !== '') {
      await cleanupNamespace(env, ns);
      await api(env, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
  });

  it('a DOWN instance is not ready in its EndpointSlice within one fetch interval of when Eureka clients can see it', async () => {
    const e = env!;
    server = await startPrivateEureka();
    ns = await testNamespace(e, 'eureka-defaults');
    const native = new NativeEureka(server.baseUrl);
    const ref = { namespace: 'default', name: `dt-${runId()}` };
    const [a, b] = [ep(1), ep(2)] as [Endpoint, Endpoint];
    await native.register(ref, a);
    await native.register(ref, b);

    const options = Value.Default(EurekaOptions, { servers: [server.baseUrl], services: [ref.name] }) as EurekaOptions;
    expect(options.fetchIntervalMs).toBe(5000);
    const source = createEurekaSource(options, ctx('eureka', BRIDGE));
    await source.start(abort.signal);
    const sink = new KubernetesSink('k8s', client(e), k8sOptions({ namespaces: [ns] }), BRIDGE);
    await sink.start(abort.signal);
    const route: Route = { id: 'eureka->k8s', from: ['eureka'], to: 'k8s', select: {}, map: { namespace: ns }, policy: DEFAULT_POLICY };
    engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [route] });
    engine.start();
    const conditionsOfAddress = async (ip: string): Promise<object | undefined> => {
      const sel = encodeURIComponent(`kubernetes.io/service-name=${ref.name},isthmus.dev/managed-by=${BRIDGE}`);
      const slices = ((await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${sel}`)).items ?? []) as unknown as { endpoints?: { addresses: string[]; conditions: object }[] }[];
      return slices.flatMap((s) => s.endpoints ?? []).find((x) => x.addresses[0] === ip)?.conditions;
    };
    const registeredAt = performance.now();
    await vi.waitFor(async () => { expect(await conditionsOfAddress(b.address)).toEqual(conditionsOf('ready')); }, WAIT);
    const importMs = Math.round(performance.now() - registeredAt);

    const t0 = performance.now();
    await native.setStatus(ref, b, 'DOWN');
    // What a Spring Cloud DiscoveryClient fetches: /apps/delta, served from the server's
    // read-only cache. (A per-application GET /apps/{APP} answers at once; clients do not use it.)
    const clientSees = vi.waitFor(async () => {
      const res = await fetch(`${server!.baseUrl}/apps/delta`, { headers: { accept: 'application/json' } });
      const body = (await res.json()) as { applications?: { application?: { instance?: { ipAddr?: string; status?: string }[] }[] } };
      const got = (body.applications?.application ?? []).flatMap((app) => app.instance ?? []).find((i) => i.ipAddr === b.address);
      expect(got?.status).toBe('DOWN');
      return Math.round(performance.now() - t0);
    }, { timeout: WAIT.timeout, interval: 250 });
    const sliceSees = vi.waitFor(async () => {
      expect(await conditionsOfAddress(b.address)).toEqual(conditionsOf('down'));
      return Math.round(performance.now() - t0);
    }, WAIT);
    const [clientVisibleMs, sliceMs] = await Promise.all([clientSees, sliceSees]);
    expect(await conditionsOfAddress(a.address)).toEqual(conditionsOf('ready'));
    await engine.whenIdle();
    expect(engine.summary().held).toEqual([]);
    console.log(JSON.stringify({ figure: 'eureka-default-timings', importMs, clientVisibleMs, sliceMs, bridgeAddedMs: sliceMs - clientVisibleMs, fetchIntervalMs: options.fetchIntervalMs }));
    expect(sliceMs).toBeLessThanOrEqual(clientVisibleMs + options.fetchIntervalMs + 2000);
    for (const x of [a, b]) await native.cancel(ref, x);
  }, 180_000);
});
