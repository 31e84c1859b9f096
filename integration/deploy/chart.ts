// Renders the chart with the real helm binary and splits the output into objects.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

export const CHART_DIR = fileURLToPath(new URL('../../deploy/helm/isthmus', import.meta.url));
export const PRODUCTION_VALUES = fileURLToPath(new URL('../../deploy/helm/production-values.yaml', import.meta.url));
export const PLAIN_MANIFESTS = new URL('../../deploy/kubernetes/isthmus.yaml', import.meta.url);

/** The Secret the plain manifests read the resolver token from; the operator creates it. */
export const PLAIN_TOKEN_SECRET = 'isthmus-resolver-token';

/**
 * What deploy/kubernetes/isthmus.yaml is rendered with: default values, except that the resolver
 * token comes from a Secret the operator creates. A token generated into the file would be one
 * token for every cluster applying it (and a new one on every regeneration).
 */
export const PLAIN_RELEASE: RenderOptions = {
  release: 'isthmus',
  namespace: 'isthmus-system',
  setJson: [`resolverToken.existingSecret="${PLAIN_TOKEN_SECRET}"`],
};

export interface RenderOptions {
  readonly release: string;
  readonly namespace: string;
  readonly valuesFiles?: readonly string[];
  /** --set-json pairs, e.g. `config.bridge.id="x"`. */
  readonly setJson?: readonly string[];
  /** Render against this cluster (`--dry-run=server`), so `lookup` sees what it holds. */
  readonly kubeconfig?: string;
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

export async function helmTemplate(helm: string, o: RenderOptions): Promise<string> {
  const args = ['template', o.release, CHART_DIR, '--namespace', o.namespace];
  for (const f of o.valuesFiles ?? []) args.push('--values', f);
  for (const s of o.setJson ?? []) args.push('--set-json', s);
  if (o.kubeconfig !== undefined) args.push('--dry-run=server', '--kubeconfig', o.kubeconfig);
  // HOME-less CI and parallel runs: keep helm's own cache/config out of the user's dirs.
  const { stdout } = await run(helm, args, { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: '/tmp/isthmus-helm/cache', HELM_CONFIG_HOME: '/tmp/isthmus-helm/config', HELM_DATA_HOME: '/tmp/isthmus-helm/data' } });
  return stdout;
}

/** `helm lint --strict`; rejects (with helm's output) on any warning or error. */
export async function helmLint(helm: string, valuesFiles: readonly string[] = []): Promise<string> {
  const args = ['lint', '--strict', CHART_DIR, ...valuesFiles.flatMap((f) => ['--values', f])];
  const { stdout } = await run(helm, args, { env: { ...process.env, HELM_CACHE_HOME: '/tmp/isthmus-helm/cache', HELM_CONFIG_HOME: '/tmp/isthmus-helm/config', HELM_DATA_HOME: '/tmp/isthmus-helm/data' } });
  return stdout;
}

export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** The header and body of deploy/kubernetes/isthmus.yaml. */
export function plainManifestText(rendered: string): string {
  const header = [
    '# GENERATED from deploy/helm/isthmus with default values (release "isthmus", namespace',
    '# "isthmus-system") by `npm run deploy:generate`; do not edit: change the chart and regenerate.',
    '# A test fails when this file and the chart disagree. Apply namespace.yaml first, then create',
    `# the resolver token: kubectl -n isthmus-system create secret generic ${PLAIN_TOKEN_SECRET} \\`,
    '#   --from-literal=token="$(head -c 36 /dev/urandom | base64)"',
  ].join('\n');
  return `${header}\n${rendered.trimStart()}`;
}
