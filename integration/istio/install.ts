// Installs Istio's CRDs into the shared harness kube-apiserver. CRDs are cluster-wide and other
// test files may rely on them, so they are left installed; a second call (or a second run) only
// reads them back, and a CRD from another istio.io/api version is replaced.
import { api, type KubeTestEnv, must } from '../adapters/kubernetes-env.ts';
import { ISTIO_API_VERSION, istioCrds, type Json, servedPaths } from './crds.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
/** Annotation recording which istio.io/api version a CRD was installed from. */
export const VERSION_ANNOTATION = 'isthmus.dev/istio-api-version';

export interface InstallReport {
  readonly version: string;
  readonly created: string[];
  readonly replaced: string[];
  readonly unchanged: string[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function nameOf(crd: Json): string {
  return (crd['metadata'] as { name: string }).name;
}

/** One CRD, annotated with its version; creates it, replaces another version's, or leaves it. */
async function put(env: KubeTestEnv, crd: Json, version: string): Promise<'created' | 'replaced' | 'unchanged'> {
  const name = nameOf(crd);
  const meta = crd['metadata'] as Json;
  const body = { ...crd, metadata: { ...meta, annotations: { ...(meta['annotations'] as Json | undefined), [VERSION_ANNOTATION]: version } } };
  const got = await api(env, 'GET', `${CRDS}/${name}`);
  if (got.status === 404) {
    const created = await api(env, 'POST', CRDS, body);
    if (created.status < 300) return 'created';
    if (created.status !== 409) throw new Error(`create CRD ${name} → ${created.status}: ${JSON.stringify(created.body).slice(0, 400)}`);
    return put(env, crd, version); // created by someone else meanwhile: compare with theirs
  }
  if (got.status !== 200) throw new Error(`GET CRD ${name} → ${got.status}`);
  const current = got.body['metadata'] as { resourceVersion?: string; annotations?: Record<string, string> } | undefined;
  if (current?.annotations?.[VERSION_ANNOTATION] === version) return 'unchanged';
  await must(env, 'PUT', `${CRDS}/${name}`, { ...body, metadata: { ...body.metadata, resourceVersion: current?.resourceVersion } });
  return 'replaced';
}

/**
 * Waits until every served version of every CRD lists with 200. Established is not enough: a
 * new type answers 429 "storage is (re)initializing" for a moment after it.
 */
async function waitServed(env: KubeTestEnv, crds: readonly Json[], timeoutMs: number): Promise<void> {
  const pending = new Set(crds.flatMap(servedPaths));
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (pending.size > 0) {
    for (const path of [...pending]) {
      const reply = await api(env, 'GET', `${path}?limit=1`);
      if (reply.status === 200) pending.delete(path);
      else last = `${path} → ${reply.status}`;
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) throw new Error(`Istio CRDs not served after ${timeoutMs} ms: ${pending.size} left, last ${last}`);
    await sleep(100);
  }
}

/** Installs (idempotently) the Istio CRDs of `version` and waits until their types are served. */
export async function installIstioCrds(env: KubeTestEnv, version = ISTIO_API_VERSION, timeoutMs = 60_000): Promise<InstallReport> {
  const crds = await istioCrds(version);
  if (crds.length === 0) throw new Error(`istio.io/api ${version}: no CRDs in the module`);
  const report: InstallReport = { version, created: [], replaced: [], unchanged: [] };
  for (const crd of crds) report[await put(env, crd, version)].push(nameOf(crd));
  await waitServed(env, crds, timeoutMs);
  return report;
}
