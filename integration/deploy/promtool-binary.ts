// The real `promtool`, built from the Go module proxy like helm (helm-binary.ts), so the alert
// rules and the dashboard's queries are parsed by the same PromQL engine Prometheus runs.
// Cached by version and go.mod/go.sum hash; a rerun is a no-op.
import { existsSync } from 'node:fs';
import { type GoBinarySpec, buildGoBinary, goBinaryPath } from '../servers/go-build.ts';
import { type ProgressListener, silentProgress } from '../servers/progress.ts';

/** Module version of Prometheus 3.16 (3.x tags are published as v0.3xx.y Go module versions). */
export const PROMTOOL_VERSION = 'v0.316.0';

const promtoolSpec: GoBinarySpec = {
  server: 'promtool',
  tool: 'promtool',
  module: 'promtool',
  pkg: 'github.com/prometheus/prometheus/cmd/promtool',
  // Without the service-discovery plugins (cloud SDKs, client-go): checking and unit-testing
  // rules needs none of them, and they are most of the build time and of the 88 MB binary.
  version: `${PROMTOOL_VERSION}-nosd`,
  tags: ['remove_all_sd'],
};

export function buildPromtool(onProgress: ProgressListener = silentProgress): Promise<string> {
  return buildGoBinary(promtoolSpec, onProgress);
}

/** Path of the cached binary, or undefined when it has not been built yet. */
export async function builtPromtool(): Promise<string | undefined> {
  const path = await goBinaryPath(promtoolSpec);
  return existsSync(path) ? path : undefined;
}
