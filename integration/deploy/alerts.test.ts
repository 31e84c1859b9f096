// The alert rules, both shipped forms, checked by the real promtool: the plain rule file is the
// chart's rules rendered with default values, both parse as Prometheus rules, and the unit tests
// in deploy/prometheus/isthmus-alerts.test.yaml show each alert firing when it should and staying
// quiet when it should not.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERTS_RELEASE, PLAIN_ALERTS, plainAlertsText, promtool, renderPrometheusRule, ruleFileText } from './alerts.ts';
import { helmLint, helmTemplate, parseObjects } from './chart.ts';
import { buildHelm } from './helm-binary.ts';
import { buildPromtool } from './promtool-binary.ts';

const ALERT_TESTS = fileURLToPath(new URL('../../deploy/prometheus/isthmus-alerts.test.yaml', import.meta.url));

interface AlertTestFile {
  readonly tests: readonly { readonly name: string; readonly alert_rule_test?: readonly { alertname: string; exp_alerts?: readonly unknown[] }[] }[];
}

let helm = '';
let promtoolBin = '';
beforeAll(async () => {
  helm = await buildHelm();
  promtoolBin = await buildPromtool();
});

/** A scratch directory holding the plain rules and the given test file, as promtool wants them side by side. */
function scratch(testText: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-alerts-'));
  copyFileSync(fileURLToPath(PLAIN_ALERTS), join(dir, 'isthmus-alerts.yaml'));
  writeFileSync(join(dir, 'isthmus-alerts.test.yaml'), testText);
  return dir;
}

describe('alert rules', () => {
  it('the plain rule file is the chart\'s rules rendered with default values (npm run deploy:generate)', async () => {
    const rule = await renderPrometheusRule(helm);
    expect(readFileSync(PLAIN_ALERTS, 'utf8')).toBe(plainAlertsText(rule.spec));
  });

  it('the chart renders no PrometheusRule by default, and lints clean with one', async () => {
    const objects = parseObjects(await helmTemplate(helm, ALERTS_RELEASE));
    expect(objects.map((o) => o.kind)).not.toContain('PrometheusRule');
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-values-'));
    const values = join(dir, 'values.yaml');
    writeFileSync(values, 'prometheusRule:\n  enabled: true\n  labels: { release: prom }\n');
    await expect(helmLint(helm, [values])).resolves.toMatch(/0 chart\(s\) failed/);
  });

  it('promtool check rules accepts the plain rule file', async () => {
    const result = await promtool(promtoolBin, ['check', 'rules', fileURLToPath(PLAIN_ALERTS)]);
    expect(result.output).toMatch(/SUCCESS: 10 rules found/);
    expect(result.ok).toBe(true);
  });

  it('promtool check rules accepts the PrometheusRule spec rendered with other thresholds, which it carries', async () => {
    const rule = await renderPrometheusRule(helm, [
      'prometheusRule.labels={"release":"kube-prometheus-stack"}',
      'prometheusRule.thresholds.holdAgeMinutes=5',
      'prometheusRule.thresholds.propagationP99Seconds=0.5',
    ]);
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-rule-'));
    const file = join(dir, 'rendered.yaml');
    writeFileSync(file, ruleFileText(rule.spec));
    const result = await promtool(promtoolBin, ['check', 'rules', file]);
    expect(result.ok, result.output).toBe(true);
    const exprs = rule.spec.groups.flatMap((g) => g.rules).map((r) => String(r['expr']));
    expect(exprs).toContainEqual(expect.stringContaining('(isthmus_held_oldest_seconds{job="isthmus"}) > 300'));
    expect(exprs).toContainEqual(expect.stringMatching(/> 0\.5$/));
  });

  it('the PrometheusRule uses only the fields the Operator\'s CRD knows, with durations its pattern accepts', async () => {
    // monitoring.coreos.com/v1 PrometheusRule: RuleGroup and Rule fields, and its Duration pattern.
    const groupFields = new Set(['name', 'interval', 'limit', 'labels', 'partial_response_strategy', 'query_offset', 'rules']);
    const ruleFields = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
    const duration = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;
    const rule = await renderPrometheusRule(helm);
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    const problems: string[] = [];
    for (const g of rule.spec.groups) {
      for (const k of Object.keys(g)) if (!groupFields.has(k)) problems.push(`group ${g.name}: ${k}`);
      for (const r of g.rules) {
        for (const k of Object.keys(r)) if (!ruleFields.has(k)) problems.push(`${String(r['alert'])}: ${k}`);
        const forValue = r['for'];
        if (forValue !== undefined && !(typeof forValue === 'string' && duration.test(forValue))) problems.push(`${String(r['alert'])}: for ${JSON.stringify(forValue)}`);
        for (const k of ['labels', 'annotations']) {
          for (const v of Object.values((r[k] ?? {}) as Record<string, unknown>)) if (typeof v !== 'string') problems.push(`${String(r['alert'])}: ${k} value ${JSON.stringify(v)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('promtool check rules rejects an expression that is not PromQL (the check can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-rule-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ruleFileText({ groups: [{ name: 'bad', rules: [{ alert: 'Bad', expr: 'sum by (job (isthmus_leader)' }] }] }));
    const result = await promtool(promtoolBin, ['check', 'rules', file]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/parse error/);
  });

  it('promtool test rules: every alert fires when it should and stays quiet when it should not', async () => {
    const result = await promtool(promtoolBin, ['test', 'rules', 'isthmus-alerts.test.yaml'], scratch(readFileSync(ALERT_TESTS, 'utf8')));
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toMatch(/SUCCESS/);
  });

  it('the unit tests cover every alert both ways', () => {
    const rules = (parse(readFileSync(PLAIN_ALERTS, 'utf8')) as { groups: { rules: { alert?: string }[] }[] }).groups
      .flatMap((g) => g.rules).flatMap((r) => (r.alert === undefined ? [] : [r.alert]));
    const cases = (parse(readFileSync(ALERT_TESTS, 'utf8')) as AlertTestFile).tests.flatMap((t) => t.alert_rule_test ?? []);
    const fires = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const quiet = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    expect(rules.length).toBe(10);
    expect(rules.filter((a) => !fires.has(a))).toEqual([]);
    expect(rules.filter((a) => !quiet.has(a))).toEqual([]);
  });

  it('promtool test rules fails when an expectation is wrong (the unit tests can fail)', async () => {
    // Expect the unreachable-source alert one minute before its 5 minutes are up.
    const wrong = readFileSync(ALERT_TESTS, 'utf8').replace('      - eval_time: 11m\n        alertname: IsthmusSourceUnreachable', '      - eval_time: 9m\n        alertname: IsthmusSourceUnreachable');
    expect(wrong).not.toBe(readFileSync(ALERT_TESTS, 'utf8'));
    const result = await promtool(promtoolBin, ['test', 'rules', 'isthmus-alerts.test.yaml'], scratch(wrong));
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/alertname: IsthmusSourceUnreachable, time: 9m/);
  });
});
