import { TARGETS, type BenchName, type Comparison, type Target } from './targets.ts';

export interface CheckedFigure {
  readonly figure: string;
  readonly what: string;
  /** null when the result lacks the figure or it is not a finite number (a miss, never a pass). */
  readonly value: number | null;
  readonly target: string;
  readonly pass: boolean;
}

export interface CheckReport {
  readonly pass: boolean;
  readonly figures: readonly CheckedFigure[];
}

/** The value at a dotted path, or null when any step is missing or the leaf is not a finite number. */
export function figureAt(result: unknown, path: string): number | null {
  let at: unknown = result;
  for (const step of path.split('.')) {
    if (typeof at !== 'object' || at === null || !(step in at)) return null;
    at = (at as Record<string, unknown>)[step];
  }
  return typeof at === 'number' && Number.isFinite(at) ? at : null;
}

export function meets(value: number, op: Comparison, limit: number): boolean {
  switch (op) {
    case '>=':
      return value >= limit;
    case '<=':
      return value <= limit;
    case '<':
      return value < limit;
  }
}

/** Whether a row concerns this result: its route and scale, for the scale bench's per-route rows. */
export function applies(t: Target, result: unknown): boolean {
  const route = typeof result === 'object' && result !== null ? (result as Record<string, unknown>)['route'] : undefined;
  if (t.routes !== undefined && !t.routes.some((r) => r === route)) return false;
  const services = figureAt(result, 'services') ?? 0;
  return services >= (t.minServices ?? 0) && services < (t.maxServices ?? Number.POSITIVE_INFINITY);
}

/** Compares every target of `bench` with `result`; `targets` is for tests. */
export function check(bench: BenchName, result: unknown, targets: readonly Target[] = TARGETS): CheckReport {
  const figures = targets
    .filter((t) => t.bench === bench && applies(t, result))
    .map((t): CheckedFigure => {
      const value = figureAt(result, t.figure);
      return { figure: t.figure, what: t.what, value, target: `${t.op} ${t.limit} ${t.unit}`, pass: value !== null && meets(value, t.op, t.limit) };
    });
  // No targets at all would "pass" vacuously; that is a broken table, not a fast system.
  return { pass: figures.length > 0 && figures.every((f) => f.pass), figures };
}

/** One line per figure for a terminal: PASS/MISS, figure, value, target. */
export function formatReport(report: CheckReport): string {
  const lines = report.figures.map((f) => `${f.pass ? 'PASS' : 'MISS'}  ${f.what}: ${f.value ?? 'missing'} (target ${f.target})`);
  lines.push(report.pass ? 'all targets met' : `${report.figures.filter((f) => !f.pass).length} target(s) missed`);
  return `${lines.join('\n')}\n`;
}

/** The scale bench: every route's run against its rows, figures named after the route. */
export function checkScale(runs: readonly Record<string, unknown>[], targets: readonly Target[] = TARGETS): CheckReport {
  const reports = runs.map((run) => {
    const r = check('scale', run, targets);
    const route = String(run['route']);
    return { pass: r.pass, figures: r.figures.map((f) => ({ ...f, figure: `${route}:${f.figure}`, what: `${route}: ${f.what}` })) };
  });
  return { pass: reports.length > 0 && reports.every((r) => r.pass), figures: reports.flatMap((r) => r.figures) };
}
