// The shipped RBAC (deploy/rbac) is enough for everything the adapter does, and no more: a
// ServiceAccount token bound only to it runs sink, source and Lease election, and is refused
// when it reads Secrets or creates namespaces.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KubernetesSink, KubernetesSource, LeaderElector } from '../../adapters/kubernetes/index.ts';
import { api, cleanupNamespace, kubeEnv, type KubeTestEnv, must, testNamespace, unique } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const FILES = ['serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml', 'leader-election.yaml'];

interface Doc { kind: string; metadata: { name: string; namespace?: string }; roleRef?: { name: string }; subjects?: { namespace?: string }[] }

/** Applies the shipped manifests into `ns`, renaming cluster-scoped objects so runs never clash. */
async function applyRbac(e: KubeTestEnv, ns: string, suffix: string): Promise<() => Promise<void>> {
  const created: string[] = [];
  for (const file of FILES) {
    for (const d of parseAllDocuments(readFileSync(new URL(`../../deploy/rbac/${file}`, import.meta.url), 'utf8'))) {
      const doc = d.toJSON() as Doc;
      if (doc.metadata.namespace !== undefined) doc.metadata.namespace = ns;
      for (const s of doc.subjects ?? []) s.namespace = ns;
      if (doc.kind.startsWith('Cluster')) doc.metadata.name += `-${suffix}`;
      if (doc.kind === 'ClusterRoleBinding' && doc.roleRef !== undefined) doc.roleRef.name += `-${suffix}`;
      const path = {
        ServiceAccount: `/api/v1/namespaces/${ns}/serviceaccounts`,
        ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
        ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
        Role: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
        RoleBinding: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
      }[doc.kind];
      if (path === undefined) throw new Error(`unexpected kind ${doc.kind} in ${file}`);
      await must(e, 'POST', path, doc);
      if (doc.kind.startsWith('Cluster')) created.push(`${path}/${doc.metadata.name}`);
    }
  }
  return async () => { for (const p of created) await api(e, 'DELETE', p); };
}

describe.skipIf(env === undefined)('kubernetes RBAC: the shipped least-privilege roles', () => {
  const e = env!;
  let saNs = '';
  let workNs = '';
  let token = '';
  let unbind: () => Promise<void> = () => Promise.resolve();
  const abort = new AbortController();

  beforeAll(async () => {
    saNs = await testNamespace(e, 'rbac-sa');
    workNs = await testNamespace(e, 'rbac-work');
    unbind = await applyRbac(e, saNs, unique('t'));
    const reply = await must(e, 'POST', `/api/v1/namespaces/${saNs}/serviceaccounts/isthmus/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
    token = (reply.status as { token: string }).token;
  });
  afterAll(async () => {
    abort.abort();
    await unbind();
    for (const ns of [saNs, workNs]) {
      await cleanupNamespace(e, ns);
      await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    }
  });

  it('runs sink, source (cluster-wide) and Lease election with the ServiceAccount token', async () => {
    const c = client(e, e.server, token);
    const sink = new KubernetesSink('k8s', c, k8sOptions({}), 'it-rbac');
    await sink.start(abort.signal); // cluster-wide watch of our own objects: list + watch
    const ref = { namespace: workNs, name: 'com.vm.Orders' };
    const endpoint = { address: '10.60.0.1', ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: 'o1' } };
    await sink.apply({ ref, ports: [{ name: 'http', port: 8080 }], endpoints: [endpoint], metadata: {}, origin: 'vm' });
    expect((await sink.observe(ref))?.endpoints.map((x) => x.address)).toEqual(['10.60.0.1']);
    expect((await sink.ownedRefs()).map((r) => `${r.namespace}/${r.name}`)).toContain(`${workNs}/com.vm.Orders`);

    await must(e, 'POST', `/api/v1/namespaces/${workNs}/services`, { metadata: { name: 'native' }, spec: { selector: { app: 'native' }, ports: [{ name: 'http', port: 80 }] } });
    const source = new KubernetesSource('k8s', c, k8sOptions({ source: { services: [`${workNs}/*`] } }));
    await source.start(abort.signal);
    await vi.waitFor(() => {
      expect(source.hasSynced()).toBe(true);
      expect([...source.keys()].map((r) => r.name)).toEqual(['native']); // our imported Service is skipped
    }, { timeout: 15_000, interval: 50 });

    const elector = new LeaderElector(c, 'rbac-replica', { namespace: saNs, name: 'isthmus-leader', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 });
    expect(await elector.tryAcquireOrRenew()).toBe(true);
    expect(await elector.tryAcquireOrRenew()).toBe(true); // renew = get + update by name
    await elector.release();

    await sink.remove(ref);
    expect(await sink.observe(ref)).toBeUndefined();
  });

  it('refuses the same token for Secrets, namespaces, and Leases under another name', async () => {
    expect((await api(e, 'GET', `/api/v1/namespaces/${workNs}/secrets`, undefined, token)).status).toBe(403);
    expect((await api(e, 'GET', '/api/v1/secrets', undefined, token)).status).toBe(403);
    expect((await api(e, 'POST', '/api/v1/namespaces', { metadata: { name: unique('nope') } }, token)).status).toBe(403);
    expect((await api(e, 'GET', `/apis/coordination.k8s.io/v1/namespaces/${saNs}/leases/other`, undefined, token)).status).toBe(403);
    expect((await api(e, 'GET', '/api/v1/pods', undefined, token)).status).toBe(403);
  });
});
