// The alert rules in their two shipped forms (the chart's PrometheusRule and the plain rule file
// deploy/prometheus/isthmus-alerts.yaml, rendered from the same rules/isthmus-alerts.yaml), and
// promtool runs over them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { helmTemplate, parseObjects, type KubeObject } from './chart.ts';

const run = promisify(execFile);

export const PLAIN_ALERTS = new URL('../../deploy/prometheus/isthmus-alerts.yaml', import.meta.url);

/** The release the plain file is rendered for: its `job="isthmus"` selector is this fullname. */
export const ALERTS_RELEASE = { release: 'isthmus', namespace: 'isthmus-system' } as const;

export interface RuleGroups {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Record<string, unknown>[] }[];
}

/** The chart's PrometheusRule, rendered with `prometheusRule.enabled` and any extra `--set-json`. */
export async function renderPrometheusRule(helm: string, setJson: readonly string[] = []): Promise<KubeObject & { spec: RuleGroups }> {
  const objects = parseObjects(await helmTemplate(helm, { ...ALERTS_RELEASE, setJson: ['prometheusRule.enabled=true', ...setJson] }));
  const rule = objects.find((o) => o.kind === 'PrometheusRule');
  if (rule === undefined) throw new Error('the chart rendered no PrometheusRule with prometheusRule.enabled=true');
  return rule as KubeObject & { spec: RuleGroups };
}

/** A Prometheus rule file holding `groups`: what `rule_files` and `promtool check rules` read. */
export function ruleFileText(groups: RuleGroups): string {
  return stringify(groups, { lineWidth: 0 });
}

export function plainAlertsText(groups: RuleGroups): string {
  const header = [
    '# GENERATED from deploy/helm/isthmus/rules/isthmus-alerts.yaml with the chart\'s default',
    '# thresholds by `npm run deploy:generate`; do not edit: change the rules there and regenerate.',
    '# A test fails when this file and the chart disagree. Selectors assume the scrape job is',
    '# named "isthmus" (the Service name of a release called isthmus); change job="isthmus" to',
    '# yours, or install the chart with prometheusRule.enabled, which fills in its own name.',
  ].join('\n');
  return `${header}\n${ruleFileText(groups)}`;
}

export interface PromtoolResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Runs promtool; a non-zero exit is a result (ok false, with its output), not a throw. */
export async function promtool(binary: string, args: readonly string[], cwd?: string): Promise<PromtoolResult> {
  try {
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 16 * 1024 * 1024, ...(cwd === undefined ? {} : { cwd }) });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}
