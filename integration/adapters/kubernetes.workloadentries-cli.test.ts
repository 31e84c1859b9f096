// The WorkloadEntry import as an operator runs it: `isthmus run` (a real process) with
// `source.istio.workloadEntries: true` in its config file exports an auto-registered-looking VM
// to Consul next to the Service's pod, and `isthmus cleanup` removes what it wrote.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isthmus, RunningBridge, TempDir, waitSynced } from '../deploy/bridge-process.ts';
import { installIstioCrds } from '../istio/install.ts';
import { consulApi, providedConsul } from './consul-support.ts';
import { adminKubeconfig, api, cleanupNamespace, kubeEnv, must, testNamespace, unique } from './kubernetes-env.ts';

const env = kubeEnv();
const consul = providedConsul();

interface HealthEntry { Service: { Address: string; Port: number; Meta: Record<string, string> }; Checks: { CheckID: string; Status: string }[] }

describe.skipIf(env === undefined || consul === undefined)('isthmus run exports WorkloadEntries to Consul', () => {
  const e = env!;
  let ns = '';
  let dir: TempDir | undefined;
  let configPath = '';
  let bridge: RunningBridge | undefined;
  const name = unique('orders');
  beforeAll(async () => {
    await installIstioCrds(e);
    ns = await testNamespace(e, 'we-cli');
    dir = await TempDir.create('we-cli');
  });
  afterAll(async () => {
    await bridge?.stop();
    if (configPath !== '') await isthmus(['cleanup', '--config', configPath, '--yes']);
    await api(e, 'DELETE', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`);
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    await dir?.remove();
  });

  it('exports the VM with the pod', async () => {
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 8080 }] } });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: `${name}-abcde`, labels: { 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.250.0.1'], conditions: { ready: true } }],
    });
    await must(e, 'POST', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'WorkloadEntry',
      metadata: { name: `${name}-vms-10.0.80.1`, labels: { app: name }, annotations: { 'istio.io/autoRegistrationGroup': `${name}-vms`, 'istio.io/workloadController': 'istiod-1' } },
      spec: { address: '10.0.80.1', labels: { app: name }, ports: { http: 18080 } },
    });
    const kubeconfig = await dir!.write('kubeconfig.yaml', adminKubeconfig(e));
    configPath = await dir!.writeConfig('config.yaml', {
      bridge: { id: unique('it-we') },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig }, namespaces: [ns], source: { services: [name], istio: { workloadEntries: true } } },
        consul: { kind: 'consul', address: consul!.httpUrl, namespace: ns, services: [name] },
      },
      routes: [{ from: 'k8s', to: 'consul' }],
      resolver: { http: { host: '127.0.0.1', port: 0 }, grpc: { enabled: false } },
      log: { level: 'info' },
    });
    bridge = await RunningBridge.start(configPath);
    await waitSynced(bridge, ns, name, ['consul'], 60_000);
    await vi.waitFor(async () => {
      const entries = await consulApi<HealthEntry[]>(consul!.httpUrl, 'GET', `/v1/health/service/${name}`);
      expect(entries.map((x) => [x.Service.Address, x.Service.Port, x.Checks.find((c) => c.CheckID.startsWith('service:'))?.Status]).sort()).toEqual([['10.0.80.1', 18080, 'passing'], ['10.250.0.1', 8080, 'passing']]);
    }, { timeout: 30_000, interval: 250 });
  });
});
