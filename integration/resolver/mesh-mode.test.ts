// Resolver mesh mode against the real servers: `isthmus run` (a real process) follows a pod
// Service in the harness kube-apiserver and imports VM instances from the harness Consul. A
// meshed caller asking with `mesh=true` (HTTP) or `filters.mesh` (gRPC, through the SDK) gets the
// Kubernetes Service's DNS name with the Service's own port — for the pod Service, and for the
// VM-only service the bridge itself wrote — and that Service really exists with that port.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GrpcTransport } from '../../sdk/index.ts';
import { consulApi, runId, providedConsul } from '../adapters/consul-support.ts';
import { adminKubeconfig, api, cleanupNamespace, kubeEnv, must, testNamespace, unique } from '../adapters/kubernetes-env.ts';
import { isthmus, RunningBridge, TempDir, waitSynced } from '../deploy/bridge-process.ts';

const env = kubeEnv();
const consul = providedConsul();

interface Answer {
  endpoints: { address: string; ports: Record<string, number>; ready: boolean; metadata: Record<string, string> }[];
}

describe.skipIf(env === undefined || consul === undefined)('resolver mesh mode names the Kubernetes Service', () => {
  const e = env!;
  const run = runId();
  const node = `it-mesh-${run}`;
  const pods = unique('orders');
  const vmOnly = unique('billing');
  let ns = '';
  let dir: TempDir | undefined;
  let configPath = '';
  let bridge: RunningBridge | undefined;
  let transport: GrpcTransport | undefined;

  beforeAll(async () => {
    ns = await testNamespace(e, 'mesh');
    dir = await TempDir.create('mesh-mode');
    // The pod side: a selector Service whose port (80) is neither the pods' port nor the VMs'.
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: pods, annotations: { 'isthmus.dev/accept-imports': 'true' } }, spec: { selector: { app: pods }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: `${pods}-abcde`, labels: { 'kubernetes.io/service-name': pods, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.248.0.1'], conditions: { ready: true } }],
    });
    // The VM side: an instance of the same application, and a service only VMs run.
    for (const [id, service, port] of [[`${pods}-vm1`, pods, 9000], [`${vmOnly}-vm1`, vmOnly, 9100]] as const) {
      await consulApi(consul!.httpUrl, 'PUT', '/v1/catalog/register', {
        Node: node,
        Address: '127.0.0.1',
        Service: { ID: id, Service: service, Address: '192.168.77.1', Port: port, Meta: { run } },
        Checks: [{ CheckID: `check-${id}`, Name: 'alive', Status: 'passing', ServiceID: id }],
      });
    }
    const kubeconfig = await dir.write('kubeconfig.yaml', adminKubeconfig(e));
    configPath = await dir.writeConfig('config.yaml', {
      bridge: { id: unique('it-mesh') },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig }, namespaces: [ns], source: { services: [pods] } },
        vm: { kind: 'consul', address: consul!.httpUrl, namespace: ns, services: [pods, vmOnly] },
      },
      // Both directions, as in a migration: the Kubernetes source (run for the export) is what
      // knows a selector Service's own ports.
      routes: [{ from: 'vm', to: 'k8s' }, { from: 'k8s', to: 'vm' }],
      resolver: { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 } },
      log: { level: 'info' },
    });
    bridge = await RunningBridge.start(configPath);
    await waitSynced(bridge, ns, vmOnly, ['k8s'], 60_000);
    await waitSynced(bridge, ns, pods, ['k8s'], 60_000);
    const listening = bridge.logs.map((l) => /gRPC resolver listening[^\n]*"port":(\d+)|"port":(\d+)[^\n]*gRPC resolver listening/.exec(l)).find((m) => m !== null);
    const port = Number(listening?.[1] ?? listening?.[2]);
    expect(port).toBeGreaterThan(0);
    transport = new GrpcTransport({ address: `127.0.0.1:${port}` });
  });

  afterAll(async () => {
    transport?.close();
    await bridge?.stop();
    if (configPath !== '') await isthmus(['cleanup', '--config', configPath, '--yes']);
    if (consul !== undefined) await consulApi(consul.httpUrl, 'PUT', '/v1/catalog/deregister', { Node: node });
    if (ns !== '') {
      await cleanupNamespace(e, ns);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
    await dir?.remove();
  });

  async function lookup(name: string, query: string): Promise<Answer> {
    const res = await fetch(`${bridge!.url}/v1/services/${ns}/${name}${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Answer;
  }

  async function servicePorts(name: string): Promise<{ name: string | undefined; port: number }[]> {
    const svc = await must(e, 'GET', `/api/v1/namespaces/${ns}/services/${name}`);
    return ((svc as { spec?: { ports?: { name?: string; port: number }[] } }).spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port }));
  }

  it('answers the pod Service by name and Service port, while plain lookups keep the instances', async () => {
    await vi.waitFor(async () => {
      expect((await lookup(pods, '')).endpoints.map((ep) => ep.address).sort()).toEqual(['10.248.0.1', '192.168.77.1']);
    }, { timeout: 30_000, interval: 250 });
    const meshed = await lookup(pods, '?mesh=true');
    expect(meshed.endpoints).toEqual([expect.objectContaining({ address: `${pods}.${ns}.svc.cluster.local`, ports: { http: 80 }, ready: true, metadata: { 'isthmus.dev/mesh-host': 'true' } })]);
    expect(await servicePorts(pods)).toEqual([{ name: 'http', port: 80 }]);
    const grpc = await transport!.resolve({ namespace: ns, name: pods }, { mesh: true, healthy: true });
    expect(grpc?.endpoints.map((ep) => [ep.address, ep.ports, ep.origin])).toEqual([[`${pods}.${ns}.svc.cluster.local`, { http: 80 }, 'k8s']]);
  });

  it('answers a VM-only service by the Service the bridge wrote for it', async () => {
    const meshed = await lookup(vmOnly, '?mesh=true');
    const [ep] = meshed.endpoints;
    expect(meshed.endpoints).toHaveLength(1);
    expect(ep?.address).toBe(`${vmOnly}.${ns}.svc.cluster.local`);
    const ports = Object.entries(ep?.ports ?? {}).map(([name, port]) => ({ name, port }));
    // The Service in the API server is the one named, with the port the answer gives.
    expect(await servicePorts(vmOnly)).toEqual(ports);
    expect(ports.map((p) => p.port)).toEqual([9100]);
    const grpc = await transport!.resolve({ namespace: ns, name: vmOnly }, { mesh: true });
    expect(grpc?.endpoints.map((x) => x.address)).toEqual([`${vmOnly}.${ns}.svc.cluster.local`]);
  });

  it('follows health: with every instance down the mesh answer is not ready, and gone from healthy lookups', async () => {
    await consulApi(consul!.httpUrl, 'PUT', '/v1/catalog/register', {
      Node: node,
      Address: '127.0.0.1',
      Service: { ID: `${vmOnly}-vm1`, Service: vmOnly, Address: '192.168.77.1', Port: 9100, Meta: { run } },
      Checks: [{ CheckID: `check-${vmOnly}-vm1`, Name: 'alive', Status: 'critical', ServiceID: `${vmOnly}-vm1` }],
    });
    await vi.waitFor(async () => {
      expect((await lookup(vmOnly, '?mesh=true')).endpoints).toMatchObject([{ address: `${vmOnly}.${ns}.svc.cluster.local`, ready: false }]);
    }, { timeout: 30_000, interval: 250 });
    expect((await lookup(vmOnly, '?mesh=true&healthy=true')).endpoints).toEqual([]);
  });
});
