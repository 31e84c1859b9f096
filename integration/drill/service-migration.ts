// The drill's ServiceMigration objects (isthmus.dev/v1alpha1), written the way an operator does
// with kubectl: the CRD installed once per apiserver, one object per migrated service whose
// spec.split the drill changes, and its status subresource (written by the bridge) read back.
import { serviceMigrationCrd } from '../../adapters/kubernetes/migration-crd.ts';
import { MIGRATION_GROUP, MIGRATION_PLURAL, MIGRATION_VERSION } from '../../bridge/runtime/config/migration-schema.ts';
import type { ServiceRef } from '../../bridge/model/index.ts';
import type { Kube, KubeReply } from './kube.ts';
import { waitFor } from './net.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function objectPath(ref: ServiceRef): string {
  return `/apis/${MIGRATION_GROUP}/${MIGRATION_VERSION}/namespaces/${encodeURIComponent(ref.namespace)}/${MIGRATION_PLURAL}/${encodeURIComponent(ref.name)}`;
}

/**
 * Creates the CRD, or brings an installed one up to this tree's schema (the apiserver is shared
 * by runs of other trees, and an older schema could prune fields this bridge writes), then
 * waits until the apiserver serves it.
 */
export async function installMigrationCrd(kube: Kube): Promise<void> {
  const crd = serviceMigrationCrd();
  const name = (crd['metadata'] as { name: string }).name;
  const created = await kube.call('POST', CRDS, crd);
  if (created.status === 409) {
    // Other files (a second drill, the CRD tests) may update it at the same moment: read again
    // and retry on a conflict.
    for (let attempt = 1; ; attempt++) {
      const current = await kube.must('GET', `${CRDS}/${name}`);
      const resourceVersion = (current['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
      const put = await kube.call('PUT', `${CRDS}/${name}`, { ...crd, metadata: { ...(crd['metadata'] as object), resourceVersion } });
      if (put.status >= 200 && put.status < 300) break;
      if (put.status !== 409 || attempt === 5) throw new Error(`updating the ServiceMigration CRD → ${put.status}: ${JSON.stringify(put.body).slice(0, 400)}`);
    }
  } else if (created.status < 200 || created.status >= 300) {
    throw new Error(`installing the ServiceMigration CRD → ${created.status}: ${JSON.stringify(created.body).slice(0, 400)}`);
  }
  await waitFor('ServiceMigration CRD established', async () => {
    const body = await kube.must('GET', `${CRDS}/${name}`);
    const conditions = (body['status'] as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
    return conditions.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  }, 30_000, 200);
}

/** Creates the service's ServiceMigration, or merges `spec` into the existing one. */
export async function applyMigration(kube: Kube, ref: ServiceRef, spec: Record<string, unknown>): Promise<void> {
  const path = objectPath(ref);
  const created = await kube.call('POST', path.slice(0, path.lastIndexOf('/')), {
    apiVersion: `${MIGRATION_GROUP}/${MIGRATION_VERSION}`,
    kind: 'ServiceMigration',
    metadata: { namespace: ref.namespace, name: ref.name },
    spec,
  });
  if (created.status >= 200 && created.status < 300) return;
  if (created.status !== 409) throw new Error(`creating ServiceMigration ${ref.namespace}/${ref.name} → ${created.status}: ${JSON.stringify(created.body).slice(0, 400)}`);
  await kube.must('PATCH', path, { spec }, [], 'application/merge-patch+json');
}

/**
 * Deletes the run's object. Namespace deletion alone does not remove it on an apiserver without
 * a namespace controller (the harness runs none), and every bridge watching all namespaces would
 * keep warning about a leftover naming registries it does not have.
 */
export async function deleteMigration(kube: Kube, ref: ServiceRef): Promise<void> {
  await kube.call('DELETE', objectPath(ref)).catch(() => undefined);
}

export interface OriginCounts {
  readonly ready: number;
  readonly total: number;
  readonly weight?: number;
  readonly share?: number;
}

/** What the drill records of a ServiceMigration's status at one step. */
export interface MigrationStatusView {
  readonly step: string;
  /** status.origins as the bridge wrote it; absent when it wrote none (see `missing`). */
  readonly origins?: Readonly<Record<string, OriginCounts>>;
  readonly split?: string;
  readonly ready?: string;
  /** Whether the ready counts matched what the drill knows to be running. */
  readonly matchesExpected?: boolean;
  /** From the step's end until status showed the expected counts (or the wait gave up), ms. */
  readonly waitedMs: number;
  readonly missing?: string;
}

/**
 * Reads the status subresource until its per-origin ready counts equal `expectedReady` (the
 * status writer runs after the sync, so it trails the step) or `timeoutMs` passes. Never
 * throws: a bridge that writes no status is recorded as such.
 */
export async function readMigrationStatus(kube: Kube, ref: ServiceRef, step: string, expectedReady: Readonly<Record<string, number>>, timeoutMs = 5000): Promise<MigrationStatusView> {
  const started = Date.now();
  let last: MigrationStatusView = { step, waitedMs: 0, missing: 'no ServiceMigration status was read' };
  for (;;) {
    const reply = await kube.call('GET', `${objectPath(ref)}/status`).catch((error: unknown): KubeReply => ({ status: 0, body: { error: (error as Error).message } }));
    const status = reply.body['status'] as { origins?: Record<string, OriginCounts>; split?: string; ready?: string } | undefined;
    const waitedMs = Date.now() - started;
    if (reply.status !== 200) {
      last = { step, waitedMs, missing: `GET status → ${reply.status}` };
    } else if (status?.origins === undefined) {
      last = { step, waitedMs, missing: 'the bridge has written no status.origins', ...(status?.split === undefined ? {} : { split: status.split }) };
    } else {
      const origins = status.origins;
      const matches = Object.entries(expectedReady).every(([id, n]) => (origins[id]?.ready ?? 0) === n);
      last = { step, origins, waitedMs, matchesExpected: matches, ...(status.split === undefined ? {} : { split: status.split }), ...(status.ready === undefined ? {} : { ready: status.ready }) };
      if (matches) return last;
    }
    if (waitedMs >= timeoutMs) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
