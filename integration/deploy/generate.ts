// `npm run deploy:generate`: rewrites the generated deploy artefacts from their sources:
// values.schema.json from the config schema, deploy/kubernetes/isthmus.yaml from the chart.
import { writeFile } from 'node:fs/promises';
import { consoleProgress } from '../servers/progress.ts';
import { PLAIN_MANIFESTS, PLAIN_RELEASE, helmTemplate, plainManifestText } from './chart.ts';
import { buildHelm } from './helm-binary.ts';
import { VALUES_SCHEMA_PATH, valuesSchemaText } from './values-schema.ts';

await writeFile(VALUES_SCHEMA_PATH, valuesSchemaText());
const helm = await buildHelm(consoleProgress);
await writeFile(PLAIN_MANIFESTS, plainManifestText(await helmTemplate(helm, PLAIN_RELEASE)));
process.stdout.write(`wrote ${VALUES_SCHEMA_PATH.pathname} and ${PLAIN_MANIFESTS.pathname}\n`);
