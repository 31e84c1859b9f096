// The ServiceMigration CRD as shipped: one YAML text, written to deploy/crds/ (for kubectl and
// upgrades) and to the chart's crds/ (Helm installs those before the templates), both generated
// by `npm run deploy:generate` from adapters/kubernetes/migration-crd.ts. Also installs it on a
// test API server for the tests that create ServiceMigration objects.
import { stringify } from 'yaml';
import { serviceMigrationCrd } from '../../adapters/kubernetes/migration-crd.ts';
import { MIGRATION_GROUP, MIGRATION_PLURAL, MIGRATION_VERSION } from '../../bridge/runtime/config/migration-schema.ts';
import { api, type KubeTestEnv } from '../adapters/kubernetes-env.ts';

export const CRD_NAME = `${MIGRATION_PLURAL}.${MIGRATION_GROUP}`;
export const CRD_FILES: readonly URL[] = [
  new URL(`../../deploy/crds/${CRD_NAME}.yaml`, import.meta.url),
  new URL(`../../deploy/helm/isthmus/crds/${CRD_NAME}.yaml`, import.meta.url),
];
export const MIGRATION_EXAMPLE = new URL('../../deploy/examples/servicemigration.yaml', import.meta.url);

export function crdText(): string {
  const header = [
    '# GENERATED from bridge/runtime/config/migration-schema.ts (via adapters/kubernetes/migration-crd.ts)',
    '# by `npm run deploy:generate`; do not edit. deploy/crds/ and the chart\'s crds/ hold the same file.',
    '# Helm installs crds/ on first install only and never upgrades them: on upgrade run',
    '#   kubectl apply -f deploy/crds/',
  ].join('\n');
  // lineWidth 0: long descriptions stay on one line, so a changed sentence is a one-line diff.
  return `${header}\n${stringify(serviceMigrationCrd(), { lineWidth: 0 })}`;
}

const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;

/**
 * Creates the CRD, or replaces it when the cluster holds an older one, and waits until the API
 * server serves the kind. Left installed: it is cluster-scoped and other tests create objects.
 */
export async function ensureMigrationCrd(env: KubeTestEnv): Promise<void> {
  const wanted = serviceMigrationCrd();
  const existing = await api(env, 'GET', CRD_PATH);
  const reply = existing.status === 404
    ? await api(env, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldValidation=Strict', wanted)
    : await api(env, 'PUT', `${CRD_PATH}?fieldValidation=Strict`, {
      ...wanted,
      metadata: { ...(wanted['metadata'] as object), resourceVersion: existing.body.metadata?.resourceVersion },
    });
  // 409: a parallel run created or replaced it first; its content is the same generated CRD.
  if (reply.status >= 300 && reply.status !== 409) throw new Error(`CRD ${CRD_NAME}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 500)}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const crd = await api(env, 'GET', CRD_PATH);
    const conditions = ((crd.body['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions) ?? [];
    const established = conditions.some((c) => c.type === 'Established' && c.status === 'True');
    // Established is not enough: until the new type's storage has initialised, lists answer
    // 429 "storage is (re)initializing", and a store started then would begin unavailable.
    if (established && (await api(env, 'GET', `/apis/${MIGRATION_GROUP}/${MIGRATION_VERSION}/${MIGRATION_PLURAL}?limit=1`)).status === 200) return;
    if (Date.now() > deadline) throw new Error(`CRD ${CRD_NAME} not established after 30 s: ${JSON.stringify(conditions)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Namespaced collection URL of ServiceMigration objects. */
export function migrationsPath(namespace: string): string {
  return `/apis/${MIGRATION_GROUP}/${MIGRATION_VERSION}/namespaces/${namespace}/${MIGRATION_PLURAL}`;
}
