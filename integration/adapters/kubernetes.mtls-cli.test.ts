// The mTLS preflight end to end, as an operator meets it: `isthmus run` (a real process) exports a
// Service under a STRICT PeerAuthentication to Consul, and `isthmus status` run against it prints
// the finding with its reason.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isthmus, RunningBridge, TempDir, waitSynced } from '../deploy/bridge-process.ts';
import { installIstioCrds } from '../istio/install.ts';
import { providedConsul } from './consul-support.ts';
import { adminKubeconfig, api, cleanupNamespace, kubeEnv, must, testNamespace, unique } from './kubernetes-env.ts';

const env = kubeEnv();
const consul = providedConsul();

describe.skipIf(env === undefined || consul === undefined)('isthmus status shows STRICT mTLS on an export', () => {
  const e = env!;
  let ns = '';
  let dir: TempDir | undefined;
  let configPath = '';
  let bridge: RunningBridge | undefined;
  const name = unique('orders');
  beforeAll(async () => {
    await installIstioCrds(e);
    ns = await testNamespace(e, 'mtls-cli');
    dir = await TempDir.create('mtls-cli');
  });
  afterAll(async () => {
    await bridge?.stop();
    if (configPath !== '') await isthmus(['cleanup', '--config', configPath, '--yes']);
    await api(e, 'DELETE', `/apis/security.istio.io/v1/namespaces/${ns}/peerauthentications`);
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    await dir?.remove();
  });

  it('prints the reason under NOTICES', async () => {
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080 }] } });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: `${name}-abcde`, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.247.0.1'], conditions: { ready: true } }],
    });
    await must(e, 'POST', `/apis/security.istio.io/v1/namespaces/${ns}/peerauthentications`, { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'strict-orders' }, spec: { selector: { matchLabels: { app: name } }, mtls: { mode: 'STRICT' } } });
    const kubeconfig = await dir!.write('kubeconfig.yaml', adminKubeconfig(e));
    configPath = await dir!.writeConfig('config.yaml', {
      bridge: { id: unique('it-mtls') },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig }, namespaces: [ns], source: { services: [name], istio: { mtlsPreflight: true } } },
        consul: { kind: 'consul', address: consul!.httpUrl, namespace: ns, services: [name] },
      },
      routes: [{ from: 'k8s', to: 'consul' }],
      resolver: { http: { host: '127.0.0.1', port: 0 }, grpc: { enabled: false } },
      log: { level: 'info' },
    });
    bridge = await RunningBridge.start(configPath);
    await waitSynced(bridge, ns, name, ['consul'], 60_000);

    const reason = `STRICT mTLS (PeerAuthentication ${ns}/strict-orders) refuses plaintext from VM callers on ${ns}/${name}`;
    await vi.waitFor(async () => {
      const out = await isthmus(['status', '--url', bridge!.url]);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('NOTICES (1)');
      expect(out.stdout).toMatch(new RegExp(`k8s +${ns}/${name} +${reason.replace(/[()/]/g, '\\$&')}`));
    }, { timeout: 30_000, interval: 500 });
    const json = await isthmus(['status', '--url', bridge.url, '--output', 'json']);
    const summary = JSON.parse(json.stdout) as { sources: { id: string; health: { notices?: { code: string; reason: string }[] } }[] };
    expect(summary.sources.find((s) => s.id === 'k8s')?.health.notices).toEqual([{ code: 'mtls-strict', ref: { namespace: ns, name }, reason }]);
  });
});
