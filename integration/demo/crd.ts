// The demo installs the ServiceMigration CRD when the cluster lacks it, so `isthmus weight`
// against the demo writes objects every replica would follow (and `kubectl get smig` works);
// Ctrl-C removes it again only if the demo was the one that installed it.
import { serviceMigrationCrd } from '../../adapters/kubernetes/migration-crd.ts';
import { MIGRATION_GROUP, MIGRATION_PLURAL, MIGRATION_VERSION } from '../../bridge/runtime/config/migration-schema.ts';
import type { Kube } from '../drill/kube.ts';

const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${MIGRATION_PLURAL}.${MIGRATION_GROUP}`;

/** Installs the CRD unless present and waits until it is served; true when this call created it. */
export async function ensureCrd(kube: Kube, timeoutMs = 20_000): Promise<boolean> {
  const created = await kube.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', serviceMigrationCrd());
  if (created.status !== 201 && created.status !== 409) throw new Error(`installing the ServiceMigration CRD → HTTP ${created.status}`);
  const deadline = Date.now() + timeoutMs;
  while ((await kube.call('GET', `/apis/${MIGRATION_GROUP}/${MIGRATION_VERSION}`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`the ServiceMigration CRD was not served within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return created.status === 201;
}

export async function removeCrd(kube: Kube): Promise<void> {
  await kube.must('DELETE', CRD_PATH, undefined, [404]);
}
