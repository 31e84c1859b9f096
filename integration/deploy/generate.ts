// `npm run deploy:generate`: rewrites the generated deploy artefacts from their sources:
// values.schema.json from the config schema, the ServiceMigration CRD (deploy/crds/ and the
// chart's crds/) from the migration schema, deploy/kubernetes/isthmus.yaml and the plain alert
// rules deploy/prometheus/isthmus-alerts.yaml from the chart.
import { mkdir, writeFile } from 'node:fs/promises';
import { consoleProgress } from '../servers/progress.ts';
import { PLAIN_ALERTS, plainAlertsText, renderPrometheusRule } from './alerts.ts';
import { PLAIN_MANIFESTS, PLAIN_RELEASE, helmTemplate, plainManifestText } from './chart.ts';
import { CRD_FILES, crdText } from './crd.ts';
import { buildHelm } from './helm-binary.ts';
import { VALUES_SCHEMA_PATH, valuesSchemaText } from './values-schema.ts';

await writeFile(VALUES_SCHEMA_PATH, valuesSchemaText());
for (const file of CRD_FILES) {
  await mkdir(new URL('.', file), { recursive: true });
  await writeFile(file, crdText());
}
const helm = await buildHelm(consoleProgress);
await writeFile(PLAIN_MANIFESTS, plainManifestText(await helmTemplate(helm, PLAIN_RELEASE)));
await mkdir(new URL('.', PLAIN_ALERTS), { recursive: true });
await writeFile(PLAIN_ALERTS, plainAlertsText((await renderPrometheusRule(helm)).spec));
const written = [VALUES_SCHEMA_PATH, ...CRD_FILES, PLAIN_MANIFESTS, PLAIN_ALERTS].map((u) => u.pathname);
process.stdout.write(`wrote ${written.join(', ')}\n`);
