// The Istio mode judged by a real istiod (pilot-discovery built from the Go module proxy) instead of
// by reading our own objects back: a real `isthmus run` imports a VM service from Consul into a
// Kubernetes Service that also has a pod, in the Istio mode; istiod's debug endpoints must list the
// VM instance for the Service with our labels, locality and plaintext TLS mode; and a proxyless
// gRPC client fed by istiod's xDS must split its calls between the VM and the pod as the
// VirtualService says, follow a split change, and stop calling a VM that Consul reports critical.
// A VM-only service (no Kubernetes Service) goes through our ServiceEntry instead.
import { randomInt } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { consulApi, runId, sharedConsulUrl } from '../adapters/consul-support.ts';
import { adminKubeconfig, api, cleanupNamespace, kubeEnv, must, testNamespace } from '../adapters/kubernetes-env.ts';
import { isthmus, RunningBridge, TempDir, waitSynced } from '../deploy/bridge-process.ts';
import { addLoopbackAddress, podAddress, removeLoopbackAddress, vmAddress } from '../drill/net.ts';
import { tailFile } from '../servers/log-tail.ts';
import { consoleProgress } from '../servers/progress.ts';
import { installIstioCrds } from './install.ts';
import { Istiod } from './istiod.ts';
import { createPodSide, endpointsOf, pollUntil, type IstioEndpoint, type Shardz } from './mesh-fixture.ts';
import { buildIstiod } from './istiod-binary.ts';
import { countWho, startWho } from './who-grpc.ts';

const env = kubeEnv();
// Not 127.0.0.0/8: the apiserver refuses loopback addresses in EndpointSlices. As in the
// migration drill, /32s of the benchmarking range go on the loopback device for the run.
const plan = { octet: randomInt(1, 255) };
const VM_IP = vmAddress(plan, 1);
const POD_IP = podAddress(plan, 1);
/** The instance of a VM-only service (no Kubernetes Service): our ServiceEntry carries its host. */
const LEGACY_IP = vmAddress(plan, 2);
const SERVICE_PORT = 7070;
const CALLS = 1_000;
/** Allowed distance of the observed VM share from the declared one, in percentage points. */
const TOLERANCE = 5;

function report(message: string): void {
  consoleProgress({ server: 'istiod', message });
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function vmShare(counts: Map<string, number>): number {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return (100 * (counts.get('vm') ?? 0)) / total;
}

describe.skipIf(env === undefined)('the Istio mode as a real istiod sees it', () => {
  const e = env!;
  const run = runId();
  const svc = `who-${run}`;
  const legacy = `legacy-${run}`;
  let ns = '';
  let host = '';
  let consul = '';
  let dir: TempDir | undefined;
  let istiod: Istiod | undefined;
  let bridge: RunningBridge | undefined;
  let configPath = '';
  let tokenFile = '';
  const servers: grpc.Server[] = [];
  const ports = { vm: 0, pod: 0, legacy: 0 };
  const added: string[] = [];

  /** Our VirtualService's HTTP route as [subset, weight] pairs, read from the apiserver. */
  const vsWeights = async (): Promise<[string, number][] | undefined> => {
    const reply = await api(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices/${svc}-isthmus`);
    if (reply.status !== 200) return undefined;
    return (reply.body['spec'] as { http: { route: { destination: { subset: string }; weight: number }[] }[] }).http[0]?.route.map((r) => [r.destination.subset, r.weight]);
  };

  beforeAll(async () => {
    const t0 = Date.now();
    const binary = await buildIstiod(consoleProgress);
    report(`binary ready in ${Math.round((Date.now() - t0) / 1000)} s: ${binary}`);
    consul = await sharedConsulUrl();
    await installIstioCrds(e);
    await must(e, 'POST', '/api/v1/namespaces', { metadata: { name: 'istio-system' } }, [409]);
    ns = await testNamespace(e, 'istiod');
    host = `${svc}.${ns}.svc.cluster.local`;
    dir = await TempDir.create('istiod');
    const kubeconfig = await dir.write('kubeconfig.yaml', adminKubeconfig(e));
    istiod = await Istiod.start({ binary, kubeconfig, dir: `${dir.path}/istiod` });

    // Real gRPC servers, each on its own address: the VM instance, the pod, the VM-only service.
    for (const [side, ip] of [['vm', VM_IP], ['pod', POD_IP], ['legacy', LEGACY_IP]] as const) {
      if (await addLoopbackAddress(ip)) added.push(ip);
      const started = await startWho(grpc, side, ip);
      servers.push(started.server);
      ports[side] = started.port;
    }

    await createPodSide(e, { namespace: ns, service: svc, servicePort: SERVICE_PORT, pod: `${svc}-pod-1`, ip: POD_IP, port: ports.pod, labels: { app: svc, 'isthmus.dev/side': 'k8s' } });

    // The VM side in Consul: one instance of the Service's app in zone-a, one VM-only service.
    await consulApi(consul, 'PUT', '/v1/catalog/register', {
      Node: `vm-${run}`, Address: VM_IP,
      Service: { ID: `${svc}-vm-1`, Service: svc, Address: VM_IP, Port: ports.vm, Meta: { zone: 'zone-a' } },
    });

    await consulApi(consul, 'PUT', '/v1/catalog/register', {
      Node: `legacy-${run}`, Address: LEGACY_IP,
      Service: { ID: `${legacy}-1`, Service: legacy, Address: LEGACY_IP, Port: ports.legacy, Meta: { zone: 'zone-b', protocol: 'grpc' } },
    });

    tokenFile = await dir.write('token', `token-${run}`);
    configPath = await dir.writeConfig('config.yaml', {
      bridge: { id: `it-istiod-${run}` },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig }, namespaces: [ns], sink: { istio: { enabled: true, region: 'eu-west' } } },
        vm: { kind: 'consul', address: consul, namespace: ns, services: [svc, legacy] },
      },
      routes: [{ from: 'vm', to: 'k8s' }],
      weights: { [`${ns}/${svc}`]: { vm: 70, k8s: 30 } },
      // A token, because runtime weight changes (`isthmus weight`) need one.
      resolver: { http: { host: '127.0.0.1', port: 0 }, grpc: { enabled: false }, auth: { tokenFile } },
      log: { level: 'info' },
    });
    bridge = await RunningBridge.start(configPath);
    bridge.token = `token-${run}`;
    await waitSynced(bridge, ns, svc, ['k8s'], 60_000);
    await waitSynced(bridge, ns, legacy, ['k8s'], 60_000);
  }, 1_800_000);

  // The log goes with the temp dir: show its end when a test fails, istiod's words first.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && istiod !== undefined) process.stderr.write(`--- ${istiod.logPath} ---\n${await tailFile(istiod.logPath, 60)}\n`);
  });

  afterAll(async () => {
    await bridge?.stop();
    if (configPath !== '') await isthmus(['cleanup', '--config', configPath, '--yes']);
    for (const node of [`vm-${run}`, `legacy-${run}`]) if (consul !== '') await consulApi(consul, 'PUT', '/v1/catalog/deregister', { Node: node }).catch(() => undefined);
    await istiod?.stop();
    for (const s of servers) s.forceShutdown();
    for (const ip of added) await removeLoopbackAddress(ip);
    if (ns !== '') {
      for (const plural of ['workloadentries', 'serviceentries', 'destinationrules', 'virtualservices']) await api(e, 'DELETE', `/apis/networking.istio.io/v1/namespaces/${ns}/${plural}`);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}/pods?gracePeriodSeconds=0`);
      await cleanupNamespace(e, ns);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
    await dir?.remove();
  });

  it('lists the VM instance under the Service with our labels, locality, weight and plaintext', async () => {
    const entries = ((await must(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries?labelSelector=${encodeURIComponent(`isthmus.dev/service=${svc}`)}`)).items ?? []) as { spec: { address: string; weight: number } }[];
    expect(entries.map((w) => w.spec.address)).toEqual([VM_IP]);

    let endpoints: IstioEndpoint[] = [];
    await vi.waitFor(async () => {
      endpoints = endpointsOf(await istiod!.debug<Shardz>('/debug/endpointShardz'), host, ns);
      expect(endpoints.map((x) => x.Addresses?.[0]).sort()).toEqual([VM_IP, POD_IP].sort());
    }, { timeout: 30_000, interval: 250 });
    const vm = endpoints.find((x) => x.Addresses?.[0] === VM_IP)!;
    expect(vm.Labels).toMatchObject({ app: svc, 'isthmus.dev/side': 'vm' });
    expect(vm.Locality?.Label).toBe('eu-west/zone-a');
    expect(vm.LbWeight).toBe(entries[0]?.spec.weight);
    expect(vm.EndpointPort).toBe(ports.vm);
    expect(vm.ServicePortName).toBe('grpc');
    // No serviceAccount and no tlsMode label: Istio sends plaintext to the VM.
    expect(vm.ServiceAccount ?? '').toBe('');
    expect(vm.TLSMode).toBe('disabled');
    const pod = endpoints.find((x) => x.Addresses?.[0] === POD_IP)!;
    expect(pod.Labels).toMatchObject({ app: svc, 'isthmus.dev/side': 'k8s' });
    expect(pod.EndpointPort).toBe(ports.pod);

    // The routing objects are accepted into istiod's config store as written.
    const configz = await istiod!.debug<{ kind?: string; metadata?: { name?: string; namespace?: string }; spec?: Record<string, unknown> }[]>('/debug/configz');
    const ours = configz.filter((c) => c.metadata?.namespace === ns);
    const vs = ours.find((c) => c.kind === 'VirtualService');
    const dr = ours.find((c) => c.kind === 'DestinationRule');
    expect((vs?.spec?.['http'] as { route: { destination: { subset: string }; weight: number }[] }[] | undefined)?.[0]?.route.map((r) => [r.destination.subset, r.weight])).toEqual([['vm', 70], ['k8s', 30]]);
    expect((dr?.spec?.['subsets'] as { name: string }[] | undefined)?.map((s) => s.name)).toEqual(['vm', 'k8s']);
  });

  it('lists a VM-only service under our ServiceEntry\'s host, with the same labels and plaintext', async () => {
    const legacyHost = `${legacy}.${ns}.svc.cluster.local`;
    await vi.waitFor(async () => {
      const registry = await istiod!.debug<{ hostname: string; Attributes?: { ServiceRegistry?: string } }[]>('/debug/registryz');
      expect(registry.find((x) => x.hostname === legacyHost)?.Attributes?.ServiceRegistry).toBe('External');
      expect(endpointsOf(await istiod!.debug<Shardz>('/debug/endpointShardz'), legacyHost, ns).map((x) => x.Addresses?.[0])).toEqual([LEGACY_IP]);
    }, { timeout: 30_000, interval: 250 });
    const [ep] = endpointsOf(await istiod!.debug<Shardz>('/debug/endpointShardz'), legacyHost, ns);
    expect(ep?.Labels).toMatchObject({ app: legacy, 'isthmus.dev/side': 'vm' });
    expect(ep?.Locality?.Label).toBe('eu-west/zone-b');
    expect(ep?.EndpointPort).toBe(ports.legacy);
    expect(ep?.TLSMode).toBe('disabled');
  });

  describe('a proxyless gRPC client fed by istiod\'s xDS', () => {
    let client: grpc.Client | undefined;
    let bootstrapJson = '';
    beforeAll(() => {
      grpcXds.register();
      // Istio's node id for a sidecar-less workload; GENERATOR=grpc selects istiod's proxyless generator.
      const bootstrap = {
        xds_servers: [{ server_uri: istiod!.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
        node: { id: `sidecar~127.0.0.1~client.${ns}~${ns}.svc.cluster.local`, metadata: { GENERATOR: 'grpc', NAMESPACE: ns, INSTANCE_IPS: '127.0.0.1' }, locality: {} },
      };
      bootstrapJson = JSON.stringify(bootstrap);
      client = new grpc.Client(`xds:///${host}:${SERVICE_PORT}`, grpc.credentials.createInsecure(), {
        'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': bootstrapJson,
      });
    });
    afterAll(() => { client?.close(); });

    it('splits calls as the VirtualService declares', async () => {
      const counts = await countWho(grpc, client!, CALLS);
      const share = vmShare(counts);
      report(`split vm=70 k8s=30 declared: ${JSON.stringify(Object.fromEntries(counts))} → vm ${share.toFixed(1)} %`);
      expect(Math.abs(share - 70)).toBeLessThanOrEqual(TOLERANCE);
    });

    it('follows a split change made with `isthmus weight` within seconds', async () => {
      const t0 = Date.now();
      const written = pollUntil(async () => sameJson(await vsWeights(), [['vm', 20], ['k8s', 80]]));
      const r = await isthmus(['weight', `${ns}/${svc}`, 'vm=20', 'k8s=80', '--url', bridge!.url, '--token-file', tokenFile]);
      expect(r.code, r.stderr).toBe(0);
      const cliMs = Date.now() - t0;
      const writtenMs = (await written) - t0;
      // Followed once a window of 200 calls is near the new split; then a full sample must hold it.
      await vi.waitFor(async () => {
        expect(Math.abs(vmShare(await countWho(grpc, client!, 200)) - 20)).toBeLessThanOrEqual(10);
      }, { timeout: 60_000, interval: 100 });
      const followedMs = Date.now() - t0;
      const counts = await countWho(grpc, client!, CALLS);
      const share = vmShare(counts);
      report(`split vm=20 k8s=80 declared: ${JSON.stringify(Object.fromEntries(counts))} → vm ${share.toFixed(1)} %; CLI returned after ${cliMs} ms, VirtualService written after ${writtenMs} ms, client followed after ${followedMs} ms`);
      expect(Math.abs(share - 20)).toBeLessThanOrEqual(TOLERANCE);
      expect(followedMs).toBeLessThan(30_000);
    });

    it('reaches a VM-only service through our ServiceEntry', async () => {
      const se = await must(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/serviceentries/${legacy}-isthmus`);
      const port = (se['spec'] as { ports: { number: number }[] }).ports[0]?.number;
      const legacyClient = new grpc.Client(`xds:///${legacy}.${ns}.svc.cluster.local:${port}`, grpc.credentials.createInsecure(), {
        'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': bootstrapJson,
      });
      try {
        expect(Object.fromEntries(await countWho(grpc, legacyClient, 100))).toEqual({ legacy: 100 });
      } finally {
        legacyClient.close();
      }
    });

    it('stops calling the VM once Consul reports it critical', async () => {
      const t0 = Date.now();
      await consulApi(consul, 'PUT', '/v1/catalog/register', {
        Node: `vm-${run}`, Address: VM_IP,
        Check: { CheckID: `${svc}-vm-1-health`, Name: 'who', Status: 'critical', ServiceID: `${svc}-vm-1` },
      });
      await vi.waitFor(async () => {
        const endpoints = endpointsOf(await istiod!.debug<Shardz>('/debug/endpointShardz'), host, ns);
        expect(endpoints.map((x) => x.Addresses?.[0])).toEqual([POD_IP]);
      }, { timeout: 30_000, interval: 100 });
      const goneMs = Date.now() - t0;
      await vi.waitFor(async () => {
        expect((await countWho(grpc, client!, 200)).get('vm') ?? 0).toBe(0);
      }, { timeout: 60_000, interval: 100 });
      const followedMs = Date.now() - t0;
      const counts = await countWho(grpc, client!, CALLS);
      report(`VM critical: gone from istiod after ${goneMs} ms, client all on pods after ${followedMs} ms; then ${JSON.stringify(Object.fromEntries(counts))}`);
      expect(Object.fromEntries(counts)).toEqual({ pod: CALLS });
    });
  });
});
