// The real `helm` binary, built from the Go module proxy like the servers (integration/servers/
// go-build.ts), so chart tests render with the same engine operators use. Cached by version and
// go.mod/go.sum hash; a rerun is a no-op.
import { existsSync } from 'node:fs';
import { type GoBinarySpec, buildGoBinary, goBinaryPath } from '../servers/go-build.ts';
import { type ProgressListener, silentProgress } from '../servers/progress.ts';

export const HELM_VERSION = 'v3.22.0';
/** client-go in helm's go.sum; what `helm template` assumes the cluster runs without --kube-version. */
const KUBE_MINOR = '37';

const helmSpec: GoBinarySpec = {
  server: 'helm',
  tool: 'helm',
  module: 'helm',
  pkg: 'helm.sh/helm/v3/cmd/helm',
  // The cache key is version + go.mod hash only, so the ldflags below are part of the version.
  version: `${HELM_VERSION}-kube1.${KUBE_MINOR}`,
  // What helm's Makefile sets: the full version, and the Kubernetes version used for
  // .Capabilities and kubeVersion checks (v1.20 otherwise, which our chart refuses).
  ldflags: [
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    ...['chartutil', 'lint/rules'].flatMap((pkg) => [
      `-X helm.sh/helm/v3/pkg/${pkg}.k8sVersionMajor=1`,
      `-X helm.sh/helm/v3/pkg/${pkg}.k8sVersionMinor=${KUBE_MINOR}`,
    ]),
  ],
};

export function buildHelm(onProgress: ProgressListener = silentProgress): Promise<string> {
  return buildGoBinary(helmSpec, onProgress);
}

/** Path of the cached binary, or undefined when it has not been built yet. */
export async function builtHelm(): Promise<string | undefined> {
  const path = await goBinaryPath(helmSpec);
  return existsSync(path) ? path : undefined;
}
