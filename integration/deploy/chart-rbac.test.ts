// The bridge runs with the chart's ServiceAccount and RBAC and nothing else: the chart is
// rendered for a namespace-restricted config, its RBAC objects are created on the real API
// server, a token is issued for its ServiceAccount (TokenRequest), and `isthmus run` with the
// chart's own config file syncs Kubernetes -> Consul and Consul -> Kubernetes with that token.
// The same token is refused (403) for anything outside the role. ServiceMigration objects (the
// chart's CRD): the token reads, creates and patches them and their status, and nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { api, cleanupNamespace, kubeEnv, must, testNamespace, unique } from '../adapters/kubernetes-env.ts';
import { consulApi, runId } from '../adapters/consul-support.ts';
import type {} from '../servers/provided-context.ts';
import { RunningBridge, TempDir, isthmus, waitSynced } from './bridge-process.ts';
import { helmTemplate, parseObjects, type KubeObject } from './chart.ts';
import { buildHelm } from './helm-binary.ts';
import { ensureMigrationCrd, migrationsPath } from './crd.ts';
import { createObject, deleteObject } from './kube-apply.ts';

const env = kubeEnv();
const consul = (() => {
  try {
    return inject('isthmusServers').consul;
  } catch {
    return undefined;
  }
})();
const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

describe.skipIf(env === undefined || consul === undefined)('helm chart RBAC: the bridge syncs with exactly the chart\'s role', () => {
  const e = env!;
  const consulUrl = consul!.httpUrl;
  const run = runId();
  const bridgeId = `it-chart-${run}`;
  let releaseNs = '';
  let workNs = '';
  let otherNs = '';
  let token = '';
  let rbac: KubeObject[] = [];
  let dir: TempDir;
  let configPath = '';
  let bridge: RunningBridge | undefined;

  const as = (method: string, path: string, body?: unknown) => api(e, method, path, body, token);

  beforeAll(async () => {
    const helm = await buildHelm();
    await ensureMigrationCrd(e);
    dir = await TempDir.create('chart-rbac');
    [releaseNs, workNs, otherNs] = [await testNamespace(e, 'chart-rel'), await testNamespace(e, 'chart-work'), await testNamespace(e, 'chart-other')];
    const config = {
      bridge: { id: bridgeId },
      registries: {
        k8s: { kind: 'kubernetes', namespaces: [workNs], leaderElection: { enabled: true, namespace: releaseNs, name: 'isthmus-leader' } },
        consul: { kind: 'consul', address: consulUrl, namespace: workNs, services: [`*-${run}`] },
      },
      routes: [{ from: 'k8s', to: 'consul' }, { from: 'consul', to: 'k8s' }],
      log: { level: 'info' },
    };
    // A unique release name keeps the cluster-scoped ClusterRole apart from other runs.
    const objects = parseObjects(await helmTemplate(helm, { release: unique('isthmus'), namespace: releaseNs, setJson: [`config=${JSON.stringify(config)}`] }));
    rbac = objects.filter((o) => RBAC_KINDS.has(o.kind));
    for (const o of rbac) {
      const reply = await createObject(e, o, false);
      if (reply.status !== 201) throw new Error(`${o.kind} ${o.metadata.name}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
    }
    const sa = rbac.find((o) => o.kind === 'ServiceAccount')!;
    const issued = await must(e, 'POST', `/api/v1/namespaces/${releaseNs}/serviceaccounts/${sa.metadata.name}/token`, {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 },
    });
    token = (issued.status as { token: string }).token;
    const kubeconfig = await dir.write('kubeconfig.yaml', JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'it', cluster: { server: e.server, 'certificate-authority': e.caFile } }],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'it', user: 'sa' } }],
      'current-context': 'sa',
    }));
    // The file the Pod would read, with what only differs outside a Pod: the kubeconfig instead of
    // the in-cluster token mount, and an ephemeral loopback resolver port.
    const configMap = objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    const podConfig = parse(configMap.data['config.yaml']!) as { registries: { k8s: Record<string, unknown> }; resolver: Record<string, unknown> };
    podConfig.registries.k8s['connection'] = { kubeconfig };
    podConfig.resolver = { http: { host: '127.0.0.1', port: 0 }, grpc: { enabled: false } };
    configPath = await dir.writeConfig('config.yaml', podConfig);
  });

  afterAll(async () => {
    await bridge?.stop();
    if (configPath !== '') await isthmus(['cleanup', '--config', configPath, '--yes']);
    await consulApi(consulUrl, 'PUT', '/v1/catalog/deregister', { Node: `native-${run}` }).catch(() => undefined);
    for (const o of rbac.filter((x) => x.kind.startsWith('Cluster'))) await deleteObject(e, o);
    for (const ns of [releaseNs, workNs, otherNs]) {
      if (ns === '') continue;
      await api(e, 'DELETE', migrationsPath(ns));
      await cleanupNamespace(e, ns);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
    await dir.remove();
  });

  it('renders namespaced RBAC only: RoleBindings, no ClusterRoleBinding', () => {
    expect(rbac.filter((o) => o.kind === 'ClusterRoleBinding')).toEqual([]);
    expect(rbac.filter((o) => o.kind === 'RoleBinding').map((o) => o.metadata.namespace).sort()).toEqual([releaseNs, workNs].sort());
  });

  it('syncs both ways with the ServiceAccount token', async () => {
    const k8sName = `shop-${run}`;
    await must(e, 'POST', `/api/v1/namespaces/${workNs}/services`, { metadata: { name: k8sName }, spec: { ports: [{ name: 'http', port: 8080 }] } });
    await must(e, 'POST', `/apis/discovery.k8s.io/v1/namespaces/${workNs}/endpointslices`, {
      metadata: { name: `${k8sName}-native`, labels: { 'kubernetes.io/service-name': k8sName, 'endpointslice.kubernetes.io/managed-by': 'native-test.isthmus.dev' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.70.0.1'], conditions: { ready: true } }],
    });
    const vmName = `billing-${run}`;
    await consulApi(consulUrl, 'PUT', '/v1/catalog/register', {
      Node: `native-${run}`, Address: '10.71.0.1',
      Service: { ID: `${vmName}-1`, Service: vmName, Address: '10.71.0.1', Port: 9000 },
    });

    bridge = await RunningBridge.start(configPath);
    await waitSynced(bridge, workNs, k8sName, ['consul'], 90_000);
    await waitSynced(bridge, workNs, vmName, ['k8s'], 90_000);

    const inConsul = await consulApi<{ ServiceAddress: string; ServicePort: number }[]>(consulUrl, 'GET', `/v1/catalog/service/${k8sName}`);
    expect(inConsul.map((s) => `${s.ServiceAddress}:${s.ServicePort}`)).toEqual(['10.70.0.1:8080']);
    const imported = await must(e, 'GET', `/apis/discovery.k8s.io/v1/namespaces/${workNs}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${vmName}`);
    expect((imported.items ?? []).flatMap((s) => (s['endpoints'] as { addresses: string[] }[]).flatMap((x) => x.addresses))).toEqual(['10.71.0.1']);
    // The writer was elected through the chart's Lease Role.
    const lease = await must(e, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${releaseNs}/leases/isthmus-leader`);
    expect((lease['spec'] as { holderIdentity?: string }).holderIdentity).toBeTruthy();
    expect(bridge.logs.filter((l) => /"statusCode":403|forbidden/i.test(l))).toEqual([]);
  });

  it('is refused anything outside the role', async () => {
    const denied = [
      ['GET', `/api/v1/namespaces/${workNs}/secrets`],
      ['GET', `/api/v1/namespaces/${workNs}/pods`],
      ['GET', `/api/v1/namespaces/${otherNs}/services`], // a namespace the config does not list
      ['GET', '/api/v1/services'], // cluster-wide: only granted when the config lists no namespaces
      ['POST', '/api/v1/namespaces'],
      ['PATCH', `/api/v1/namespaces/${workNs}/services/anything`],
      ['GET', `/apis/coordination.k8s.io/v1/namespaces/${releaseNs}/leases/some-other-lease`],
      ['DELETE', `/apis/discovery.k8s.io/v1/namespaces/${workNs}/endpointslices`], // deletecollection
    ] as const;
    const statuses = await Promise.all(denied.map(async ([method, path]) => `${method} ${path} → ${(await as(method, path, method === 'POST' ? { metadata: { name: unique('x') } } : method === 'PATCH' ? {} : undefined)).status}`));
    expect(statuses).toEqual(denied.map(([method, path]) => `${method} ${path} → 403`));
    // And the same token can do what the role grants, so the 403s are the role, not the token.
    expect((await as('GET', `/api/v1/namespaces/${workNs}/services`)).status).toBe(200);
  });

  it('reads, creates and patches ServiceMigrations and their status in its namespaces only', async () => {
    const name = `rbac-${run}`;
    const item = `${migrationsPath(workNs)}/${name}`;
    const merge = (path: string, body: unknown) => api(e, 'PATCH', path, body, token, 'application/merge-patch+json');
    const body = { apiVersion: 'isthmus.dev/v1alpha1', kind: 'ServiceMigration', metadata: { name }, spec: { service: `never-${run}`, phase: 'vm-only' } };
    const allowed = [
      `create ${(await as('POST', migrationsPath(workNs), body)).status}`,
      `get ${(await as('GET', item)).status}`,
      `list ${(await as('GET', migrationsPath(workNs))).status}`,
      `watch ${(await as('GET', `${migrationsPath(workNs)}?watch=true&timeoutSeconds=1`)).status}`,
      `patch ${(await merge(item, { spec: { phase: 'shifting' } })).status}`,
      `get status ${(await as('GET', `${item}/status`)).status}`,
      `patch status ${(await merge(`${item}/status`, { status: { service: `${workNs}/never-${run}` } })).status}`,
    ];
    expect(allowed).toEqual(['create 201', 'get 200', 'list 200', 'watch 200', 'patch 200', 'get status 200', 'patch status 200']);
    const current = await as('GET', item);
    const denied = [
      `update ${(await as('PUT', item, current.body)).status}`,
      `update status ${(await as('PUT', `${item}/status`, current.body)).status}`,
      `delete ${(await as('DELETE', item)).status}`,
      `deletecollection ${(await as('DELETE', migrationsPath(workNs))).status}`,
      `list elsewhere ${(await as('GET', migrationsPath(otherNs))).status}`,
      `list cluster-wide ${(await as('GET', '/apis/isthmus.dev/v1alpha1/servicemigrations')).status}`,
    ];
    expect(denied).toEqual(['update 403', 'update status 403', 'delete 403', 'deletecollection 403', 'list elsewhere 403', 'list cluster-wide 403']);
  });
});
