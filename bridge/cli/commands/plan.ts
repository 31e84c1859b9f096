import { refKey } from '../../model/index.ts';
import type { PlanReport, PlannedChange } from '../../sync/reports.ts';
import { outputFormat, parseCommandArgs, parseDuration, stringFlag, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, commandLogger, configFrom } from '../config-flags.ts';
import { EXIT } from '../exit-codes.ts';
import { table } from '../table.ts';

const DEFAULT_TIMEOUT = '30s';
const ACTIONS = ['create', 'update', 'delete', 'hold'] as const;

export const planCommand: Command = {
  name: 'plan',
  summary: 'show what the bridge would write right now, without writing',
  help: `Usage: isthmus plan --config FILE [--timeout DURATION] [--output text|json]

Connects to every registry in the config, lists the sources (waiting up to --timeout for each
to finish its initial list), reads what this bridge id already owns in every target, and prints
what one sync pass would do. Nothing is written. Run it before the first \`isthmus run\`, after
editing routes, or to see why a change is held.

For every route, each change shows:
  ACTION     create | update | delete | hold (a removal the deletion guard would hold back)
  SINK       the target registry
  SERVICE    the target namespace/name
  ENDPOINTS  endpoints this bridge owns there now → endpoints it would own after the pass
  WRITES     the native writes the sink planned (the record itself when there is one; -o json
             lists every record), so a port-only or health-only change shows as what it is
  REASON     why, when there is more to say (held: which guard; update: what changed)
followed by a summary line. Targets already in sync are counted, not listed.

Options:
${CONFIG_HELP}
  --timeout DURATION   how long to wait for the sources to sync (default ${DEFAULT_TIMEOUT}; e.g. 90s, 2m)
  -o, --output FORMAT  text (default) or json (the PlanReport as the engine produced it)
  -h, --help           show this help

Logs go to stderr (at warn unless --log-level says otherwise), the plan to stdout.

Examples:
  isthmus plan -c /etc/isthmus/isthmus.yaml
  isthmus plan -c isthmus.yaml --timeout 2m -o json | jq '.changes[] | select(.action=="hold")'

Exit codes:
  0  the plan is complete (with or without changes)
  1  the plan is incomplete (a source did not sync within --timeout) or a registry failed
  2  bad command line or invalid config
`,
  async run({ args, deps, io }) {
    const { values } = parseCommandArgs('plan', args, { ...CONFIG_OPTIONS, output: { type: 'string', short: 'o' }, timeout: { type: 'string' } }, 0);
    const format = outputFormat(values, 'plan');
    const timeoutText = stringFlag(values, 'timeout') ?? DEFAULT_TIMEOUT;
    const timeoutMs = parseDuration(timeoutText);
    if (timeoutMs === undefined || timeoutMs <= 0) throw usageError(`--timeout "${timeoutText}" is not a duration like 30s`, 'plan');
    const config = configFrom(values, 'plan', deps, io);
    const logger = commandLogger(config, values, 'plan', io);
    const report = await deps.plan(config, { timeoutMs, logger });
    io.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report, timeoutText));
    return report.unsyncedSources.length > 0 ? EXIT.error : EXIT.ok;
  },
};

function writes(c: PlannedChange): string {
  const ops = c.operations;
  const only = ops[0];
  if (ops.length === 1 && only !== undefined) return `${only.verb} ${only.record}`;
  const verbs = (['create', 'update', 'delete'] as const).map((v) => [v, ops.filter((o) => o.verb === v).length] as const).filter(([, n]) => n > 0);
  return ops.length === 0 ? '0' : `${ops.length} (${verbs.map(([v, n]) => `${n} ${v}`).join(', ')})`;
}

export function formatPlan(report: PlanReport, timeoutText: string): string {
  let out = `plan for bridge ${report.bridgeId}\n`;
  const byRoute = new Map<string, PlannedChange[]>();
  for (const c of report.changes) byRoute.set(c.route, [...(byRoute.get(c.route) ?? []), c]);
  for (const [route, changes] of byRoute) {
    out += `\nroute ${route}\n`;
    out += table(
      ['ACTION', 'SINK', 'SERVICE', 'ENDPOINTS', 'WRITES', 'REASON'],
      changes.map((c) => [c.action, c.sink, refKey(c.ref), `${c.before} → ${c.after}`, writes(c), c.reason ?? '']),
      '  ',
    );
  }
  const counts = ACTIONS.map((a) => `${report.changes.filter((c) => c.action === a).length} ${a}`).join(', ');
  const n = report.changes.length;
  out += n === 0 ? `\nno changes; ${report.inSync} targets in sync\n` : `\n${n} ${n === 1 ? 'change' : 'changes'}: ${counts}; ${report.inSync} targets in sync\n`;
  if (report.unsyncedSources.length > 0) {
    out +=
      `\nINCOMPLETE: ${report.unsyncedSources.join(', ')} did not finish listing within ${timeoutText}; ` +
      'their services are missing above. Retry with a longer --timeout or check the registry.\n';
  }
  return out;
}
