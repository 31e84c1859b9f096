// npm run drill -- [consul|nacos|dubbo|eureka|all] [--json] [--reduced]
// Exit 0 only when every selected framework ran with zero failed calls in both directions;
// `all` runs what is available and reports the rest as not available yet.
import { parseArgs } from 'node:util';
import { ensureServers } from '../servers/index.ts';
import type { ServerName } from '../servers/connections.ts';
import { FRAMEWORKS, FULL, REDUCED, type FrameworkName, type DrillReport, runDrill, VM_SERVER } from './run.ts';

const USAGE = `Usage: npm run drill -- [consul|nacos|dubbo|eureka|all] [--json] [--reduced]

Migrates one service from VM providers to pods with traffic running, per framework, and reports
every call's outcome in both directions (vmToPod, podToVm). Starts the kubernetes server and the
selected frameworks' registries (consul, nacos, zookeeper, eureka) when they are not up (like
\`npm run servers -- up\`) and leaves them running.
  --json      print the report as JSON on stdout (progress goes to stderr)
  --reduced   shorter pauses between steps (what CI runs)
  --drain-ms N  how long retiring VM providers keep serving after deregistering (default 5000;
              0 shows what happens without a drain window)
`;

function summaryLine(report: DrillReport): string {
  const lines: string[] = [];
  for (const [name, r] of Object.entries(report.frameworks)) {
    if (!r.available) lines.push(`${name}: ${r.reason}`);
    else if ('error' in r) lines.push(`${name}: FAILED: ${r.error}`);
    else {
      for (const dir of ['vmToPod', 'podToVm'] as const) {
        const d = r[dir];
        lines.push(`${name} ${dir}: ${d.calls} calls, ${d.failures} failures, ${d.callsPerSecond}/s; pod share after the last VM retired ${d.podShareAfterLastVmRetired.pod}%`);
      }
      for (const st of r.split.steps) {
        lines.push(`${name} split ${JSON.stringify(st.declared)} via ${st.via}: pods declared ${st.declaredPodShare}%, observed ${st.vmToPod.podShare}% of ${st.vmToPod.calls} vmToPod calls (${st.vmToPod.failures} failed), visible in ${st.visibleMs} ms, followed by the consumer ${st.followedMs} ms later`);
      }
    }
  }
  lines.push(report.ok ? 'drill passed' : 'drill FAILED');
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { json: { type: 'boolean' }, reduced: { type: 'boolean' }, 'drain-ms': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const which = positionals[0] ?? 'all';
  if (which !== 'all' && !(FRAMEWORKS as readonly string[]).includes(which)) {
    process.stderr.write(`unknown framework "${which}"\n${USAGE}`);
    return 2;
  }
  const selected: FrameworkName[] = which === 'all' ? [...FRAMEWORKS] : [which as FrameworkName];
  const log = (m: string): void => { process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`); };
  const vmServers = selected.map((f): ServerName => VM_SERVER[f]);
  const servers = vmServers.length > 0
    ? (await ensureServers(['kubernetes', ...vmServers], { onProgress: (e) => { log(`${e.server}: ${e.message}`); } })).connections
    : {};
  // `all` passes with frameworks not built yet; naming one explicitly does not.
  // Ctrl-C: stop at the next step and clean up (JVMs, bridge, slices, addresses); twice: exit now.
  const abort = new AbortController();
  const onSignal = (): void => {
    if (abort.signal.aborted) process.exit(130);
    log('interrupted: stopping the drill and cleaning up (again to exit at once)');
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const base = values.reduced === true ? REDUCED : FULL;
  const drainMs = values['drain-ms'] === undefined ? base.drainMs : Number(values['drain-ms']);
  if (!Number.isInteger(drainMs) || drainMs < 0) {
    process.stderr.write(`--drain-ms must be a whole number of milliseconds\n${USAGE}`);
    return 2;
  }
  const report = await runDrill(selected, servers, { ...base, drainMs }, log, which !== 'all', abort.signal);
  if (values.json === true) {
    // Frameworks at the top level, as issue 10 shows the output: { consul: { vmToPod, podToVm }, … }.
    const { frameworks, ...rest } = report;
    process.stdout.write(`${JSON.stringify({ ...frameworks, ...rest }, null, 2)}\n`);
  }
  process.stderr.write(`${summaryLine(report)}\n`);
  return report.ok ? 0 : 1;
}

process.exitCode = await main();
