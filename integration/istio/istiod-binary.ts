// The real istiod (`pilot-discovery`), built from the Go module proxy like promtool
// (integration/deploy/promtool-binary.ts), so tests can ask Istio itself what it makes of the
// WorkloadEntries, DestinationRules and VirtualServices the Kubernetes sink writes in Istio mode.
// Cached by version and go.mod/go.sum hash; a rerun is a no-op.
import { existsSync } from 'node:fs';
import { type GoBinarySpec, buildGoBinary, goBinaryPath } from '../servers/go-build.ts';
import { type ProgressListener, silentProgress } from '../servers/progress.ts';

/** istio.io/istio publishes no Go module tags; this pseudo-version is the one the proxy serves here. */
export const ISTIOD_VERSION = 'v0.0.0-20260827124520-eed52ebb66ad';

const istiodSpec: GoBinarySpec = {
  server: 'istiod',
  tool: 'pilot-discovery',
  module: 'istiod',
  pkg: 'istio.io/istio/pilot/cmd/pilot-discovery',
  version: ISTIOD_VERSION,
};

export function buildIstiod(onProgress: ProgressListener = silentProgress): Promise<string> {
  return buildGoBinary(istiodSpec, onProgress);
}

/** Path of the cached binary, or undefined when it has not been built yet. */
export async function builtIstiod(): Promise<string | undefined> {
  const path = await goBinaryPath(istiodSpec);
  return existsSync(path) ? path : undefined;
}
