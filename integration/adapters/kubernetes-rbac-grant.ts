// Grants the cluster-scoped roles of a shipped deploy/rbac file to one test ServiceAccount,
// renamed per run, so a test can run the bridge with exactly the shipped rules.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { type KubeTestEnv, must } from './kubernetes-env.ts';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/** Creates the ClusterRoles and ClusterRoleBindings of `file`; returns their paths (to delete). */
export async function grantRbacFile(e: KubeTestEnv, file: string, sa: { namespace: string; name: string }, suffix: string): Promise<string[]> {
  const paths: string[] = [];
  for (const d of parseAllDocuments(readFileSync(new URL(`../../deploy/rbac/${file}`, import.meta.url), 'utf8'))) {
    const doc = d.toJSON() as { kind: string; metadata: { name: string }; roleRef?: { name: string }; subjects?: object[] };
    if (doc.kind !== 'ClusterRole' && doc.kind !== 'ClusterRoleBinding') continue;
    doc.metadata.name = `${doc.metadata.name}-${suffix}`;
    if (doc.roleRef !== undefined) doc.roleRef.name = `${doc.roleRef.name}-${suffix}`;
    doc.subjects = (doc.subjects ?? []).map((x) => ({ ...x, ...sa }));
    const path = `${RBAC}/${doc.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings'}`;
    await must(e, 'POST', path, doc);
    paths.push(`${path}/${doc.metadata.name}`);
  }
  return paths;
}

/** A ServiceAccount in `namespace` and a one-hour token for it. */
export async function serviceAccountToken(e: KubeTestEnv, namespace: string, name: string): Promise<string> {
  await must(e, 'POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { metadata: { name } });
  const reply = await must(e, 'POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  return (reply['status'] as { token: string }).token;
}
