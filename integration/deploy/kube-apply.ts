// Creating rendered chart objects on the real API server through plain REST, with or without
// server-side dry run. The path table covers every kind the chart can render; an unknown kind
// throws so a new template cannot slip past the dry-run test.
import { api, type ApiReply, type KubeTestEnv } from '../adapters/kubernetes-env.ts';
import type { KubeObject } from './chart.ts';

interface Resource {
  readonly group: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

const RESOURCES: Readonly<Record<string, Resource>> = {
  'v1/Namespace': { group: '/api/v1', plural: 'namespaces', namespaced: false },
  'v1/ServiceAccount': { group: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  'v1/ConfigMap': { group: '/api/v1', plural: 'configmaps', namespaced: true },
  'v1/Secret': { group: '/api/v1', plural: 'secrets', namespaced: true },
  'v1/Service': { group: '/api/v1', plural: 'services', namespaced: true },
  'apps/v1/Deployment': { group: '/apis/apps/v1', plural: 'deployments', namespaced: true },
  'policy/v1/PodDisruptionBudget': { group: '/apis/policy/v1', plural: 'poddisruptionbudgets', namespaced: true },
  'networking.k8s.io/v1/NetworkPolicy': { group: '/apis/networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': { group: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { group: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false },
  'rbac.authorization.k8s.io/v1/Role': { group: '/apis/rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/v1/RoleBinding': { group: '/apis/rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true },
  'monitoring.coreos.com/v1/ServiceMonitor': { group: '/apis/monitoring.coreos.com/v1', plural: 'servicemonitors', namespaced: true },
  'monitoring.coreos.com/v1/PrometheusRule': { group: '/apis/monitoring.coreos.com/v1', plural: 'prometheusrules', namespaced: true },
};

/** Collection URL of an object (POST target), and the object's own URL. */
export function objectPaths(o: KubeObject): { collection: string; item: string } {
  const r = RESOURCES[`${o.apiVersion}/${o.kind}`];
  if (r === undefined) throw new Error(`no REST path known for ${o.apiVersion} ${o.kind}; add it to kube-apply.ts`);
  const ns = o.metadata.namespace;
  if (r.namespaced && ns === undefined) throw new Error(`${o.kind} ${o.metadata.name} has no namespace`);
  const collection = r.namespaced ? `${r.group}/namespaces/${ns}/${r.plural}` : `${r.group}/${r.plural}`;
  return { collection, item: `${collection}/${o.metadata.name}` };
}

export function createObject(env: KubeTestEnv, o: KubeObject, dryRun: boolean): Promise<ApiReply> {
  const { collection } = objectPaths(o);
  return api(env, 'POST', `${collection}${dryRun ? '?dryRun=All&fieldValidation=Strict' : '?fieldValidation=Strict'}`, o);
}

export async function deleteObject(env: KubeTestEnv, o: KubeObject): Promise<void> {
  await api(env, 'DELETE', objectPaths(o).item);
}

/** The Prometheus Operator kinds the chart can render. */
const OPERATOR_KINDS = [
  { kind: 'ServiceMonitor', plural: 'servicemonitors', singular: 'servicemonitor' },
  { kind: 'PrometheusRule', plural: 'prometheusrules', singular: 'prometheusrule' },
] as const;

/**
 * The Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, reduced to what makes the API
 * server serve the kinds (their real schemas are ~1000 lines): the dry run then checks each
 * object's envelope, not the operator's field rules (alerts.test.ts checks the rule fields).
 * Created once and left in place, like a cluster that has the operator.
 */
export async function ensureOperatorCrds(env: KubeTestEnv): Promise<void> {
  for (const { kind, plural, singular } of OPERATOR_KINDS) {
    const name = `${plural}.monitoring.coreos.com`;
    const existing = await api(env, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    if (existing.status === 200) continue;
    const created = await api(env, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: {
        group: 'monitoring.coreos.com',
        scope: 'Namespaced',
        names: { plural, singular, kind, listKind: `${kind}List` },
        versions: [{
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
        }],
      },
    });
    if (created.status !== 201 && created.status !== 409) throw new Error(`CRD ${name}: ${created.status} ${JSON.stringify(created.body).slice(0, 300)}`);
  }
  // Established takes a moment: wait until every kind is served.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const group = await api(env, 'GET', '/apis/monitoring.coreos.com/v1');
    const served = group.status === 200 ? JSON.stringify(group.body) : '';
    if (OPERATOR_KINDS.every((k) => served.includes(`"${k.plural}"`))) return;
    if (Date.now() > deadline) throw new Error('Prometheus Operator CRDs not served after 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}
