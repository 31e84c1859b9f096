// The export-side STRICT mTLS preflight against the real API server with Istio's CRDs: a
// Service exported by a real engine run, PeerAuthentications created, changed and deleted, and
// the finding read where an operator reads it (the status summary, `isthmus status`'s text, the
// metric). The root namespace is a test namespace so a mesh-wide policy touches no other test.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesSource } from '../../adapters/kubernetes/index.ts';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { formatStatus } from '../../bridge/cli/format-status.ts';
import { DEFAULT_POLICY, type Route } from '../../bridge/model/index.ts';
import { registerStateMetrics } from '../../bridge/runtime/state-metrics.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { installIstioCrds } from '../istio/install.ts';
import { api, cleanupNamespace, kubeEnv, must, testNamespace, unique } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';
import { grantRbacFile as grant } from './kubernetes-rbac-grant.ts';

const env = kubeEnv();
const WAIT = { timeout: 15_000, interval: 50 };
const PAS = 'security.istio.io/v1';

describe.skipIf(env === undefined)('STRICT mTLS preflight on exported Services', () => {
  const e = env!;
  let ns = '';
  let root = '';
  const abort = new AbortController();
  let engine: Engine | undefined;
  const granted: string[] = [];
  beforeAll(async () => {
    await installIstioCrds(e);
    ns = await testNamespace(e, 'mtls');
    root = await testNamespace(e, 'mtls-root');
  });
  afterAll(async () => {
    abort.abort();
    await engine?.stop();
    for (const path of granted.reverse()) await api(e, 'DELETE', path);
    for (const n of [ns, root]) {
      await api(e, 'DELETE', `/apis/${PAS}/namespaces/${n}/peerauthentications`);
      await cleanupNamespace(e, n);
      await api(e, 'DELETE', `/api/v1/namespaces/${n}`);
    }
  });

  const paPath = (n: string, name?: string) => `/apis/${PAS}/namespaces/${n}/peerauthentications${name === undefined ? '' : `/${name}`}`;
  const patchPa = async (n: string, name: string, spec: Record<string, unknown>) => {
    const reply = await api(e, 'PATCH', paPath(n, name), { spec }, e.token, 'application/merge-patch+json');
    expect(reply.status).toBe(200);
  };
  const putPa = (n: string, name: string, spec: Record<string, unknown>) => must(e, 'POST', paPath(n), { apiVersion: PAS, kind: 'PeerAuthentication', metadata: { name }, spec });

  it('reports a STRICT PeerAuthentication with a reason, clears on PERMISSIVE, honours overrides', async () => {
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'orders', annotations: { 'isthmus.dev/export': 'true' } }, spec: { selector: { app: 'orders' }, ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'grpc', port: 9090, targetPort: 9090 }] } });
    // A plain Service nobody exports (filtered out by the source's annotation filter).
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'internal' }, spec: { selector: { app: 'internal' }, ports: [{ name: 'http', port: 80 }] } });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: 'orders-abcde', labels: { 'kubernetes.io/service-name': 'orders', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      // The named targetPort `web` resolves to 8080 here, as the controller writes it.
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'grpc', port: 9090, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.246.0.1'], conditions: { ready: true, serving: true, terminating: false } }],
    });

    const source = new KubernetesSource('k8s', client(e), k8sOptions({ namespaces: [ns], source: { annotations: { 'isthmus.dev/export': 'true' }, istio: { mtlsPreflight: true, rootNamespace: root } } }));
    await source.start(abort.signal);
    const target = new MemoryRegistry();
    const route: Route = { id: 'k8s->vm', from: ['k8s'], to: 'vm', select: {}, map: {}, policy: DEFAULT_POLICY };
    engine = new Engine({ bridgeId: 'it-mtls', sources: [source], sinks: [new MemorySink('vm', target, 'it-mtls')], routes: [route], quietMs: 5, maxDelayMs: 50 });
    engine.start();
    const ref = { namespace: ns, name: 'orders' };
    await vi.waitFor(() => { expect(target.service(ref)?.endpoints.size).toBe(1); }, WAIT);

    const registry = new Registry();
    registerStateMetrics([registry]).track({ leader: () => true, sources: () => [source], held: () => [] });
    const notices = () => engine!.summary().sources.find((s) => s.id === 'k8s')?.health.notices ?? [];
    const reasons = () => notices().map((n) => n.reason);
    const gauge = async () => /isthmus_export_mtls_strict\{registry="k8s"\} (\d+)/.exec(await registry.metrics())?.[1];
    expect(reasons()).toEqual([]);

    // Workload-level STRICT selecting the Service's pods.
    const strict = `STRICT mTLS (PeerAuthentication ${ns}/strict-orders) refuses plaintext from VM callers on ${ns}/orders`;
    const t0 = performance.now();
    await putPa(ns, 'strict-orders', { selector: { matchLabels: { app: 'orders' } }, mtls: { mode: 'STRICT' } });
    await vi.waitFor(() => { expect(reasons()).toEqual([strict]); }, WAIT);
    console.log(`mtls preflight: STRICT reported after ${Math.round(performance.now() - t0)} ms`);
    expect(notices()[0]).toMatchObject({ code: 'mtls-strict', ref });
    const text = formatStatus(engine.summary(), Date.now());
    expect(text).toContain('NOTICES (1)');
    expect(text).toMatch(new RegExp(`k8s +${ns}/orders +STRICT mTLS \\(PeerAuthentication ${ns}/strict-orders\\) refuses plaintext`));
    expect(await gauge()).toBe('1');

    // The same policy turned PERMISSIVE: nothing to report.
    await patchPa(ns, 'strict-orders', { mtls: { mode: 'PERMISSIVE' } });
    await vi.waitFor(() => { expect(reasons()).toEqual([]); }, WAIT);
    expect(formatStatus(engine.summary(), Date.now())).toContain('NOTICES: none');
    expect(await gauge()).toBe('0');

    // Port level: STRICT on the container port behind the named targetPort only.
    await patchPa(ns, 'strict-orders', { portLevelMtls: { '8080': { mode: 'STRICT' } } });
    await vi.waitFor(() => { expect(reasons()).toEqual([`STRICT mTLS (PeerAuthentication ${ns}/strict-orders) refuses plaintext from VM callers on ${ns}/orders port 8080`]); }, WAIT);
    await must(e, 'DELETE', paPath(ns, 'strict-orders'));
    await vi.waitFor(() => { expect(reasons()).toEqual([]); }, WAIT);

    // Namespace-wide STRICT, then a workload-level PERMISSIVE override: the most specific wins.
    await putPa(ns, 'ns-strict', { mtls: { mode: 'STRICT' } });
    await vi.waitFor(() => { expect(reasons()).toEqual([`STRICT mTLS (PeerAuthentication ${ns}/ns-strict) refuses plaintext from VM callers on ${ns}/orders`]); }, WAIT);
    await putPa(ns, 'orders-open', { selector: { matchLabels: { app: 'orders' } }, mtls: { mode: 'PERMISSIVE' } });
    await vi.waitFor(() => { expect(reasons()).toEqual([]); }, WAIT);
    // Stays cleared: give the watch time to deliver anything that would bring it back.
    await new Promise((r) => setTimeout(r, 500));
    expect(reasons()).toEqual([]);
    expect(await gauge()).toBe('0');
    await must(e, 'DELETE', paPath(ns, 'orders-open'));
    await must(e, 'DELETE', paPath(ns, 'ns-strict'));

    // Mesh-wide from the configured root namespace; the unexported Service is never reported.
    await putPa(root, 'default', { mtls: { mode: 'STRICT' } });
    await vi.waitFor(() => { expect(reasons()).toEqual([`STRICT mTLS (PeerAuthentication ${root}/default) refuses plaintext from VM callers on ${ns}/orders`]); }, WAIT);

    // The Service stops being exported (a Service change, policies unchanged): nothing to report.
    const unexport = await api(e, 'PATCH', `/api/v1/namespaces/${ns}/services/orders`, { metadata: { annotations: { 'isthmus.dev/export': null } } }, e.token, 'application/merge-patch+json');
    expect(unexport.status).toBe(200);
    await vi.waitFor(() => { expect(reasons()).toEqual([]); }, WAIT);
  });

  it('says once that PeerAuthentications are not readable, keeps exporting, and picks them up once granted', async () => {
    const sa = { namespace: ns, name: unique('bridge') };
    await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: sa.name } });
    const reply = await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa.name}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
    const token = (reply['status'] as { token: string }).token;
    const suffix = unique('m');
    granted.push(...await grant(e, 'clusterrole.yaml', sa, suffix), ...await grant(e, 'clusterrolebinding.yaml', sa, suffix));
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'pay', annotations: { 'isthmus.dev/export': 'true' } }, spec: { selector: { app: 'pay' }, ports: [{ name: 'http', port: 8080 }] } });
    await putPa(ns, 'strict-pay', { selector: { matchLabels: { app: 'pay' } }, mtls: { mode: 'STRICT' } });

    const source = new KubernetesSource('k8s-rbac', client(e, e.server, token), k8sOptions({
      namespaces: [ns],
      source: { services: ['pay'], annotations: { 'isthmus.dev/export': 'true' }, istio: { mtlsPreflight: true, rootNamespace: root } },
      resyncBackoffMs: { min: 50, max: 300 },
    }));
    const local = new AbortController();
    await source.start(local.signal);
    try {
      await vi.waitFor(() => {
        expect(source.hasSynced()).toBe(true);
        expect(source.get({ namespace: ns, name: 'pay' })).toBeDefined();
        expect(source.health().notices).toEqual([{
          code: 'mtls-unreadable',
          reason: `PeerAuthentication not readable: RBAC: cannot list peerauthentications.security.istio.io in namespace ${ns}; RBAC: cannot list peerauthentications.security.istio.io in namespace ${root}`.split('; ').sort().join('; '),
        }]);
      }, WAIT);
      expect(source.health().reachable).toBe(true);

      granted.push(...await grant(e, 'optional-istio-mtls.yaml', sa, suffix));
      await vi.waitFor(() => {
        expect(source.health().notices?.map((n) => n.reason)).toEqual([`STRICT mTLS (PeerAuthentication ${ns}/strict-pay) refuses plaintext from VM callers on ${ns}/pay`]);
      }, WAIT);
    } finally {
      local.abort();
    }
  });
});
