// The pod subset safety net judged by a real istiod and a proxyless gRPC client: a Service whose
// pod lacks podSubsetLabels, a VM instance from Consul, a 70/30 split. Before the safety net the
// VirtualService sent 30 % to the empty `k8s` subset and those calls failed ("14 UNAVAILABLE:
// priority policy has empty priority list", 62 of 200). Now no call may fail, `GET /v1/status`
// and `isthmus status` must say why, and labelling the pod must bring the subsets back.
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
import { createPodSide, endpointsOf, pollUntil, type Shardz } from './mesh-fixture.ts';
import { buildIstiod } from './istiod-binary.ts';
import { countWho, startWho, tallyWho } from './who-grpc.ts';

const env = kubeEnv();
const plan = { octet: randomInt(1, 255) };
const VM_IP = vmAddress(plan, 1);
const POD_IP = podAddress(plan, 1);
const SERVICE_PORT = 7070;
const CALLS = 1_000;
const TOLERANCE = 5;

function report(message: string): void {
  consoleProgress({ server: 'istiod', message });
}

function vmShare(counts: Map<string, number>): number {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return (100 * (counts.get('vm') ?? 0)) / total;
}

describe.skipIf(env === undefined)('a pod without podSubsetLabels, as a real istiod routes it', () => {
  const e = env!;
  const run = runId();
  const svc = `bare-${run}`;
  let ns = '';
  let host = '';
  let consul = '';
  let dir: TempDir | undefined;
  let istiod: Istiod | undefined;
  let bridge: RunningBridge | undefined;
  let configPath = '';
  let tokenFile = '';
  let client: grpc.Client | undefined;
  const servers: grpc.Server[] = [];
  const added: string[] = [];

  /** Our VirtualService's HTTP route as [subset, weight] pairs; "host" for a destination without a subset. */
  const vsRoutes = async (): Promise<[string, number][] | undefined> => {
    const reply = await api(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices/${svc}-isthmus`);
    if (reply.status !== 200) return undefined;
    return (reply.body['spec'] as { http: { route: { destination: { subset?: string }; weight: number }[] }[] }).http[0]?.route.map((r) => [r.destination.subset ?? 'host', r.weight]);
  };
  const podLabels = async (): Promise<Record<string, string> | undefined> =>
    endpointsOf(await istiod!.debug<Shardz>('/debug/endpointShardz'), host, ns).find((x) => x.Addresses?.[0] === POD_IP)?.Labels;

  beforeAll(async () => {
    const binary = await buildIstiod(consoleProgress);
    consul = await sharedConsulUrl();
    await installIstioCrds(e);
    await must(e, 'POST', '/api/v1/namespaces', { metadata: { name: 'istio-system' } }, [409]);
    ns = await testNamespace(e, 'istiod-pods');
    host = `${svc}.${ns}.svc.cluster.local`;
    dir = await TempDir.create('istiod-pods');
    const kubeconfig = await dir.write('kubeconfig.yaml', adminKubeconfig(e));
    istiod = await Istiod.start({ binary, kubeconfig, dir: `${dir.path}/istiod` });

    const ports = { vm: 0, pod: 0 };
    for (const [side, ip] of [['vm', VM_IP], ['pod', POD_IP]] as const) {
      if (await addLoopbackAddress(ip)) added.push(ip);
      const started = await startWho(grpc, side, ip);
      servers.push(started.server);
      ports[side] = started.port;
    }
    // The forgotten label: the Service selects the pod, the `k8s` subset (isthmus.dev/side=k8s) would not.
    await createPodSide(e, { namespace: ns, service: svc, servicePort: SERVICE_PORT, pod: `${svc}-pod-1`, ip: POD_IP, port: ports.pod, labels: { app: svc } });
    await consulApi(consul, 'PUT', '/v1/catalog/register', {
      Node: `bare-vm-${run}`, Address: VM_IP,
      Service: { ID: `${svc}-vm-1`, Service: svc, Address: VM_IP, Port: ports.vm },
    });

    tokenFile = await dir.write('token', `token-${run}`);
    configPath = await dir.writeConfig('config.yaml', {
      bridge: { id: `it-istiod-pods-${run}` },
      registries: {
        k8s: { kind: 'kubernetes', connection: { kubeconfig }, namespaces: [ns], sink: { istio: { enabled: true } } },
        vm: { kind: 'consul', address: consul, namespace: ns, services: [svc] },
      },
      routes: [{ from: 'vm', to: 'k8s' }],
      weights: { [`${ns}/${svc}`]: { vm: 70, k8s: 30 } },
      resolver: { http: { host: '127.0.0.1', port: 0 }, grpc: { enabled: false }, auth: { tokenFile } },
      log: { level: 'info' },
    });
    bridge = await RunningBridge.start(configPath);
    bridge.token = `token-${run}`;
    await waitSynced(bridge, ns, svc, ['k8s'], 60_000);

    grpcXds.register();
    const bootstrap = {
      xds_servers: [{ server_uri: istiod.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: `sidecar~127.0.0.1~client.${ns}~${ns}.svc.cluster.local`, metadata: { GENERATOR: 'grpc', NAMESPACE: ns, INSTANCE_IPS: '127.0.0.1' }, locality: {} },
    };
    client = new grpc.Client(`xds:///${host}:${SERVICE_PORT}`, grpc.credentials.createInsecure(), {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
    });
  }, 1_800_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && istiod !== undefined) process.stderr.write(`--- ${istiod.logPath} ---\n${await tailFile(istiod.logPath, 60)}\n`);
  });

  afterAll(async () => {
    client?.close();
    await bridge?.stop();
    if (configPath !== '') await isthmus(['cleanup', '--config', configPath, '--yes']);
    if (consul !== '') await consulApi(consul, 'PUT', '/v1/catalog/deregister', { Node: `bare-vm-${run}` }).catch(() => undefined);
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

  it('fails no call: the pod share goes to the Service host, and status says why', async () => {
    expect(await vsRoutes()).toEqual([['vm', 70], ['host', 30]]);
    await vi.waitFor(async () => {
      expect(endpointsOf(await istiod!.debug<Shardz>('/debug/endpointShardz'), host, ns).map((x) => x.Addresses?.[0]).sort()).toEqual([VM_IP, POD_IP].sort());
    }, { timeout: 30_000, interval: 250 });
    expect((await podLabels())?.['isthmus.dev/side']).toBeUndefined();
    const { counts, failures } = await tallyWho(grpc, client!, CALLS);
    report(`pod without podSubsetLabels, split vm=70 k8s=30: ${JSON.stringify(Object.fromEntries(counts))}, failed ${JSON.stringify(failures)} → vm ${vmShare(counts).toFixed(1)} %`);
    expect(failures).toEqual({});
    // The pod share spreads over all endpoints of the host by weight: the VMs get at least their own share.
    expect(vmShare(counts)).toBeGreaterThanOrEqual(70 - TOLERANCE);

    // Loud: GET /v1/status lists it for the service, `isthmus status ns/name` prints it.
    const res = await fetch(`${bridge!.url}/v1/status`, { headers: { authorization: `Bearer token-${run}` } });
    const status = (await res.json()) as { quarantined: { registry: string; nativeId: string; reason: string; ref?: { namespace: string; name: string } }[] };
    const notice = status.quarantined.filter((q) => q.registry === 'k8s');
    expect(notice.map((q) => [q.ref, q.nativeId])).toEqual([[{ namespace: ns, name: svc }, `VirtualService ${ns}/${svc}-isthmus subset k8s`]]);
    expect(notice[0]?.reason).toContain(`no running pod of Service ${ns}/${svc} carries the pod subset labels isthmus.dev/side=k8s`);
    const cli = await isthmus(['status', `${ns}/${svc}`, '--url', bridge!.url, '--token-file', tokenFile]);
    expect(cli.stdout).toContain('QUARANTINED RECORDS (1)');
    expect(cli.stdout).toContain('isthmus.dev/side=k8s');
    report(`isthmus status ${ns}/${svc}:\n${cli.stdout.slice(cli.stdout.indexOf('QUARANTINED'))}`);
  });

  it('labelling the pod restores the subsets at the next pass, still without a failed call', async () => {
    const patched = await api(e, 'PATCH', `/api/v1/namespaces/${ns}/pods/${svc}-pod-1`, { metadata: { labels: { 'isthmus.dev/side': 'k8s' } } }, e.token, 'application/merge-patch+json');
    expect(patched.status).toBe(200);
    await vi.waitFor(async () => { expect((await podLabels())?.['isthmus.dev/side']).toBe('k8s'); }, { timeout: 30_000, interval: 250 });
    // The next pass of the service: here a split change (the periodic resync or any change of the service does the same).
    const t0 = Date.now();
    const r = await isthmus(['weight', `${ns}/${svc}`, 'vm=40', 'k8s=60', '--url', bridge!.url, '--token-file', tokenFile]);
    expect(r.code, r.stderr).toBe(0);
    await pollUntil(async () => JSON.stringify(await vsRoutes()) === JSON.stringify([['vm', 40], ['k8s', 60]]));
    await vi.waitFor(async () => {
      expect(Math.abs(vmShare(await countWho(grpc, client!, 200)) - 40)).toBeLessThanOrEqual(10);
    }, { timeout: 60_000, interval: 100 });
    const followedMs = Date.now() - t0;
    const { counts, failures } = await tallyWho(grpc, client!, CALLS);
    report(`pod labelled, split vm=40 k8s=60: ${JSON.stringify(Object.fromEntries(counts))}, failed ${JSON.stringify(failures)} → vm ${vmShare(counts).toFixed(1)} %; client followed after ${followedMs} ms`);
    expect(failures).toEqual({});
    expect(Math.abs(vmShare(counts) - 40)).toBeLessThanOrEqual(TOLERANCE);
    expect((await bridge!.explain(ns, svc)).quarantined).toEqual([]);
  });
});
