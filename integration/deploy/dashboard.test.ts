// The Grafana dashboard: well-formed, every metric its queries name is one a real bridge exposes
// on /metrics, and every query is PromQL that the real promtool accepts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from '../../adapters/memory/index.ts';
import { runBridge } from '../../bridge/app/run.ts';
import { createLogger, parseConfig, type SignalSource } from '../../bridge/runtime/index.ts';
import { promtool, ruleFileText } from './alerts.ts';
import { buildPromtool } from './promtool-binary.ts';

const DASHBOARD = fileURLToPath(new URL('../../deploy/grafana/isthmus-dashboard.json', import.meta.url));

interface Target { readonly refId?: string; readonly expr?: string; readonly datasource?: { readonly uid?: string } }
interface Panel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly gridPos?: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
}
interface Dashboard {
  readonly schemaVersion?: number;
  readonly uid?: string;
  readonly title?: string;
  readonly panels?: readonly Panel[];
  readonly templating?: { readonly list?: readonly { readonly name: string; readonly type: string; readonly query?: unknown }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = dashboard.panels ?? [];
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t, expr: t.expr ?? '' })));

/**
 * Grafana's variables are not PromQL: each is replaced the way Grafana would before sending the
 * query (a regex for the multi-value ones, a duration for the interval ones).
 */
function asPromql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__range', '6h')
    .replaceAll(/\$\{?(job|instance)\}?/g, '.+');
}

/** Metric names an expression selects: every identifier directly followed by a label matcher. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((m) => m[1] ?? '');
}

/** Sample names a /metrics page can hold: each family's own, plus its histogram or summary series. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(`${name}${s}`);
  }
  return names;
}

const CONFIG = `bridge: { id: dashboard-test }
registries:
  vm:
    kind: memory
    services:
      - { namespace: shop, name: orders, endpoints: [ { address: 10.0.0.1, port: 80 }, { address: not-an-ip, port: 80 } ] }
  k8s: { kind: memory }
routes: [ { from: vm, to: k8s } ]
resolver:
  http: { port: 0, host: 127.0.0.1 }
  grpc: { enabled: true, port: 0, host: 127.0.0.1 }
`;

/** /metrics of a real bridge (memory registries, both resolvers) after it has synced once. */
async function scrapeRealBridge(): Promise<string> {
  const kinds = { memory: memoryAdapter };
  const stop = new AbortController();
  let url = '';
  const run = runBridge(parseConfig(CONFIG, kinds, { env: {} }), kinds, {
    logger: createLogger({ level: 'silent' }),
    signal: stop.signal,
    signals: new EventEmitter() as EventEmitter & SignalSource,
    onListening: (u) => { url = u; },
  });
  try {
    // vi.waitFor, not expect.poll: this runs in beforeAll, outside any test.
    await vi.waitFor(() => { if (url === '') throw new Error('not listening yet'); }, { timeout: 10_000 });
    await vi.waitFor(async () => {
      const status = (await fetch(`${url}/v1/services/shop/orders`)).status;
      if (status !== 200) throw new Error(`shop/orders: ${status}`);
    }, { timeout: 10_000 });
    return await (await fetch(`${url}/metrics`)).text();
  } finally {
    stop.abort();
    await run;
  }
}

describe('Grafana dashboard', () => {
  let exposed = new Set<string>();
  let promtoolBin = '';
  beforeAll(async () => {
    exposed = exposedNames(await scrapeRealBridge());
    promtoolBin = await buildPromtool();
  });

  it('is a dashboard Grafana imports: schemaVersion, uid, title, a datasource variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    const variables = dashboard.templating?.list ?? [];
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(panels.length).toBeGreaterThanOrEqual(15);
  });

  it('every panel has a unique id, a type, a title, a place on the grid and queries on ${datasource}', () => {
    const problems: string[] = [];
    for (const p of panels) {
      const name = `panel ${String(p.id)} "${p.title ?? ''}"`;
      if (typeof p.id !== 'number') problems.push(`${name}: no id`);
      if (typeof p.type !== 'string' || p.type === '') problems.push(`${name}: no type`);
      if (typeof p.title !== 'string' || p.title === '') problems.push(`${name}: no title`);
      const g = p.gridPos;
      if (g === undefined || g.w <= 0 || g.h <= 0 || g.x < 0 || g.x + g.w > 24) problems.push(`${name}: bad gridPos ${JSON.stringify(g)}`);
      if ((p.targets ?? []).length === 0) problems.push(`${name}: no targets`);
      for (const t of p.targets ?? []) {
        if (t.datasource?.uid !== '${datasource}') problems.push(`${name} ${t.refId ?? ''}: not on \${datasource}`);
        if ((t.expr ?? '') === '') problems.push(`${name} ${t.refId ?? ''}: empty expr`);
      }
      const refIds = (p.targets ?? []).map((t) => t.refId);
      if (new Set(refIds).size !== refIds.length) problems.push(`${name}: duplicate refId`);
    }
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size, 'duplicate panel ids').toBe(ids.length);
    expect(problems).toEqual([]);
  });

  it('names only metrics a real bridge exposes on /metrics', () => {
    // The scrape itself must hold what the dashboard is about, or the comparison proves nothing.
    for (const name of ['isthmus_propagation_seconds_bucket', 'isthmus_leader', 'isthmus_resolver_requests_total', 'process_cpu_seconds_total']) {
      expect(exposed, name).toContain(name);
    }
    const missing: string[] = [];
    for (const { panel, expr } of exprs) {
      const names = metricNames(expr);
      if (names.length === 0) missing.push(`"${panel.title ?? ''}": selects no metric: ${expr}`);
      for (const n of names) if (!exposed.has(n)) missing.push(`"${panel.title ?? ''}": ${n}`);
      // A bare metric name without a matcher would slip past metricNames.
      for (const bare of expr.matchAll(/\b((?:isthmus|process|nodejs)_[a-z0-9_]+)\b(?!\{)/g)) missing.push(`"${panel.title ?? ''}": ${bare[1] ?? ''} without a label matcher`);
    }
    expect(missing).toEqual([]);
  });

  it('covers what the operators watch: propagation, writes, holds, quarantine, sources, leader, resolver, queue, retries', () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricNames(expr)));
    for (const name of [
      'isthmus_propagation_seconds_bucket', 'isthmus_sync_writes_total', 'isthmus_held_deletes', 'isthmus_held_oldest_seconds',
      'isthmus_quarantined_records', 'isthmus_source_reachable', 'isthmus_source_synced', 'isthmus_leader',
      'isthmus_leader_changes_total', 'isthmus_resolver_requests_total', 'isthmus_resolver_watchers', 'isthmus_queue_depth',
      'isthmus_sync_retries_total',
    ]) expect(used, name).toContain(name);
  });

  it('every query is PromQL: promtool check rules on them as recording rules', async () => {
    const rules = exprs.map(({ panel, target, expr }) => ({ record: `isthmus_dashboard:panel_${String(panel.id)}_${target.refId ?? ''}`, expr: asPromql(expr) }));
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-dashboard-'));
    const file = join(dir, 'dashboard-rules.yaml');
    writeFileSync(file, ruleFileText({ groups: [{ name: 'isthmus-dashboard', rules }] }));
    const result = await promtool(promtoolBin, ['check', 'rules', file]);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
