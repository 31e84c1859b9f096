// The migration as a Kubernetes object, with two real `isthmus run` replicas behind a Lease on
// the real kube-apiserver and a real Consul as the VM registry: a ServiceMigration applied the
// way kubectl does changes the weights the leader writes; `isthmus weight` sent to the standby
// writes the object, so the leader follows; killing the leader and restarting both keeps the
// split and writes nothing; the leader reports progress in the status subresource.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { api, cleanupNamespace, kubeEnv, must, testNamespace, type KubeTestEnv } from '../adapters/kubernetes-env.ts';
import { consulApi, runId, sharedConsulUrl } from '../adapters/consul-support.ts';
import { ensureMigrationCrd, migrationsPath } from '../deploy/crd.ts';
import { RunningBridge, TempDir, isthmus, waitSynced } from '../deploy/bridge-process.ts';
import type { ServerConnections } from '../servers/connections.ts';
import type {} from '../servers/provided-context.ts';

const servers: ServerConnections = (() => {
  try {
    return inject('isthmusServers');
  } catch {
    return {};
  }
})();
const kube = kubeEnv();
const TOKEN = 'migration-replicas-token';

interface HealthEntry { Node: { Node: string }; Service: { ID: string; Address: string; Meta?: Record<string, string>; ModifyIndex: number; Weights?: { Passing: number } } }

describe.skipIf(kube === undefined || servers.kubernetes === undefined || servers.consul === undefined)('ServiceMigration with two replicas and a Lease', () => {
  const e = kube as KubeTestEnv;
  const run = runId();
  const service = `orders-${run}`;
  let ns = '';
  let consul = '';
  let dir: TempDir;
  let configs: string[] = [];
  const bridges: RunningBridge[] = [];

  /** Pods exported into Consul by the bridge: address → the weight Meta our records carry. */
  const exported = async (): Promise<Map<string, { weight: string | undefined; modifyIndex: number }>> => {
    const entries = await consulApi<HealthEntry[]>(consul, 'GET', `/v1/health/service/${service}`);
    return new Map(entries
      .filter((x) => x.Service.Meta?.['isthmus-managed-by'] !== undefined)
      .map((x) => [x.Service.Address, { weight: x.Service.Meta?.['isthmus-weight'], modifyIndex: x.Service.ModifyIndex }]));
  };
  const exportedWeights = async (): Promise<string[]> => [...(await exported()).values()].map((v) => v.weight ?? '-').sort();
  const leaderOf = async (): Promise<{ leader: RunningBridge; standby: RunningBridge }> => {
    const states = await Promise.all(bridges.map(async (b) => ((await (await fetch(`${b.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { leader: boolean }).leader));
    const i = states.indexOf(true);
    if (i === -1 || states.lastIndexOf(true) !== i) throw new Error(`expected exactly one leader, got ${JSON.stringify(states)}`);
    return { leader: bridges[i]!, standby: bridges[1 - i]! };
  };
  const config = (identity: string, tokenFile: string) => ({
    bridge: { id: `smig-${run}` },
    registries: {
      k8s: {
        kind: 'kubernetes',
        connection: { kubeconfig: servers.kubernetes!.kubeconfigPath },
        namespaces: [ns],
        leaderElection: { enabled: true, identity, namespace: ns, leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 0.5 },
      },
      vm: { kind: 'consul', address: consul, namespace: ns, services: [`*-${run}`] },
    },
    routes: [{ from: 'k8s', to: 'vm' }, { from: 'vm', to: 'k8s' }],
    resolver: { http: { host: '127.0.0.1', port: 0 }, grpc: { enabled: false }, auth: { tokenFile } },
  });
  const startBoth = async (): Promise<void> => {
    for (const c of configs) {
      const b = await RunningBridge.start(c);
      b.token = TOKEN;
      bridges.push(b);
    }
    await vi.waitFor(async () => { await leaderOf(); }, { timeout: 20_000, interval: 100 });
  };
  const migrationPath = () => `${migrationsPath(ns)}/${service}`;

  beforeAll(async () => {
    consul = await sharedConsulUrl();
    await ensureMigrationCrd(e);
    ns = await testNamespace(e, 'smig');
    dir = await TempDir.create('smig');
    const tokenFile = await dir.write('token', TOKEN);
    configs = [await dir.writeConfig('a.yaml', config('replica-a', tokenFile)), await dir.writeConfig('b.yaml', config('replica-b', tokenFile))];
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: service }, spec: { ports: [{ name: 'http', port: 8080 }] } });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
      metadata: { name: `${service}-pods`, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'test.isthmus.dev' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.91.0.1'], conditions: { ready: true } }, { addresses: ['10.91.0.2'], conditions: { ready: true } }],
    });
    // Two native VM instances in Consul: the anchor the exported pods' weights are scaled against.
    for (const i of [1, 2]) {
      await consulApi(consul, 'PUT', '/v1/catalog/register', {
        Node: `vm-${run}-${i}`, Address: `10.92.0.${i}`,
        Service: { ID: `${service}-${i}`, Service: service, Address: `10.92.0.${i}`, Port: 8080 },
      });
    }
    await startBoth();
    const { leader } = await leaderOf();
    await waitSynced(leader, ns, service, ['vm'], 60_000);
    await vi.waitFor(async () => { expect(await exportedWeights()).toEqual(['100', '100']); }, { timeout: 30_000, interval: 100 });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(bridges.splice(0).map((b) => b.stop()));
    for (const i of [1, 2]) await consulApi(consul, 'PUT', '/v1/catalog/deregister', { Node: `vm-${run}-${i}` }).catch(() => undefined);
    const nodes = await consulApi<{ Node: string }[]>(consul, 'GET', '/v1/catalog/nodes').catch(() => []);
    for (const n of nodes.filter((x) => x.Node.includes(`smig-${run}`))) await consulApi(consul, 'PUT', '/v1/catalog/deregister', { Node: n.Node }).catch(() => undefined);
    if (ns !== '') {
      await cleanupNamespace(e, ns);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
    await dir.remove();
  });

  it('a ServiceMigration applied with kubectl moves the weights the leader writes, and reports progress', async () => {
    const t0 = Date.now();
    await must(e, 'POST', migrationsPath(ns), {
      apiVersion: 'isthmus.dev/v1alpha1', kind: 'ServiceMigration',
      metadata: { name: service },
      spec: { split: { vm: 90, k8s: 10 }, phase: 'shifting' },
    });
    // VMs weigh 200 together: the pods' 10 % is 200 × 10/90 ≈ 22, 11 each.
    await vi.waitFor(async () => { expect(await exportedWeights()).toEqual(['11', '11']); }, { timeout: 10_000, interval: 20 });
    const appliedMs = Date.now() - t0;
    console.log(JSON.stringify({ figure: 'servicemigration-apply-to-leader-write', ms: appliedMs }));

    const status = await vi.waitFor(async () => {
      const obj = await must(e, 'GET', migrationPath()) as { status?: { origins?: Record<string, { ready: number; total: number }>; conditions?: { type: string; status: string }[]; split?: string } };
      expect(obj.status?.origins).toMatchObject({ k8s: { ready: 2, total: 2 }, vm: { ready: 2, total: 2 } });
      expect(obj.status?.conditions?.find((c) => c.type === 'SplitApplied')?.status).toBe('True');
      return obj.status;
    }, { timeout: 15_000, interval: 200 });
    expect(status?.split).toBe('k8s=10 vm=90');

    const { standby } = await leaderOf();
    const text = await isthmus(['status', `${ns}/${service}`, '--url', standby.url, '--token-file', `${dir.path}/token`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/MIGRATION\nobject: ServiceMigration .*\nphase: shifting\nsplit: k8s=10 vm=90 {2}\(from the ServiceMigration\)/);
  });

  it('isthmus weight sent to the standby writes the object, and the leader follows', async () => {
    const { standby } = await leaderOf();
    const r = await isthmus(['weight', `${ns}/${service}`, 'vm=10', 'k8s=90', '--url', standby.url, '--token-file', `${dir.path}/token`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`stored in ServiceMigration ${ns}/${service}`);
    const obj = await must(e, 'GET', migrationPath()) as { spec: { split: Record<string, number>; phase?: string } };
    expect(obj.spec).toEqual({ split: { vm: 10, k8s: 90 }, phase: 'shifting' });
    // 200 × 90/10 = 1800 for the pods, 900 each.
    await vi.waitFor(async () => { expect(await exportedWeights()).toEqual(['900', '900']); }, { timeout: 10_000, interval: 20 });
  });

  it('killing the leader and restarting both keeps the split, and the restart writes nothing', async () => {
    const { leader, standby } = await leaderOf();
    await leader.kill();
    bridges.splice(bridges.indexOf(leader), 1);
    await vi.waitFor(async () => {
      const s = (await (await fetch(`${standby.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { leader: boolean };
      expect(s.leader).toBe(true);
    }, { timeout: 15_000, interval: 100 });
    expect(await exportedWeights()).toEqual(['900', '900']);
    const before = await exported();

    expect(await standby.stop()).toBe(0);
    bridges.splice(0);
    await startBoth();
    const { leader: next } = await leaderOf();
    await waitSynced(next, ns, service, ['vm'], 60_000);
    const answer = (await (await fetch(`${next.url}/v1/services/${ns}/${service}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { endpoints: { address: string; weight: number }[] };
    expect(answer.endpoints.map((x) => [x.address, x.weight]).sort()).toEqual([['10.91.0.1', 4500], ['10.91.0.2', 4500], ['10.92.0.1', 500], ['10.92.0.2', 500]]);
    expect(await exported()).toEqual(before);
  });
});
