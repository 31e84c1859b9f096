// Builds the real istiod for the Istio integration tests (integration/istio/istiod.test.ts), with
// progress on stderr; cached, so a rerun is a no-op. Meant for .ci/run's tools step:
// `node --import tsx integration/process/launch.ts integration/istio/build-istiod.ts`.
import { consoleProgress } from '../servers/progress.ts';
import { buildIstiod } from './istiod-binary.ts';

const started = Date.now();
const binary = await buildIstiod(consoleProgress);
process.stdout.write(`istiod: ${binary} (${Math.round((Date.now() - started) / 1000)} s)\n`);
