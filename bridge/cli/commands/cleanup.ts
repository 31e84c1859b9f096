import { refKey } from '../../model/index.ts';
import type { CleanupReport } from '../../sync/reports.ts';
import { outputFormat, parseCommandArgs, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, commandLogger, configFrom } from '../config-flags.ts';
import { EXIT } from '../exit-codes.ts';

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'remove everything this bridge id wrote into the target registries',
  help: `Usage: isthmus cleanup --config FILE [--dry-run] [--yes] [--output text|json]

Removes every record carrying this bridge's ownership marker (bridge.id) from every registry
that is the target of a route: the Kubernetes Services/EndpointSlices it created, the Nacos
instances, the Consul node isthmus-<bridge id> and its services, the Dubbo znodes. Records
written by anyone else, or by a bridge with another id, are never touched. This is the last
step of a migration (DESIGN §1), or how to undo a trial run. Stop \`isthmus run\` first, or
it will write the records again.

Without --yes, it first lists what would be removed and asks you to type the bridge id to
confirm. Without a terminal (CI, a pipe) it refuses unless --yes is given.

Options:
${CONFIG_HELP}
  --dry-run            only list what would be removed; nothing is deleted
  -y, --yes            do not ask; delete right away (for scripts)
  -o, --output FORMAT  text (default) or json (the CleanupReport; the preview and the
                       question then go to stderr)
  -h, --help           show this help

Examples:
  isthmus cleanup -c /etc/isthmus/isthmus.yaml --dry-run
  isthmus cleanup -c /etc/isthmus/isthmus.yaml
  isthmus cleanup -c isthmus.yaml --yes -o json

Exit codes:
  0  removed (or, with --dry-run, listed); also when there was nothing to remove
  1  a registry failed, or the confirmation did not match (nothing was removed)
  2  bad command line, invalid config, or no terminal to confirm on and no --yes
`,
  async run({ args, deps, io }) {
    const { values } = parseCommandArgs(
      'cleanup',
      args,
      { ...CONFIG_OPTIONS, output: { type: 'string', short: 'o' }, yes: { type: 'boolean', short: 'y' }, 'dry-run': { type: 'boolean' } },
      0,
    );
    const format = outputFormat(values, 'cleanup');
    const config = configFrom(values, 'cleanup', deps, io);
    const logger = commandLogger(config, values, 'cleanup', io);
    const report = (r: CleanupReport) => io.stdout.write(format === 'json' ? `${JSON.stringify(r, null, 2)}\n` : formatCleanup(r));
    // With JSON on stdout, the conversation with the person goes to stderr.
    const talk = format === 'json' ? io.stderr : io.stdout;

    if (values['dry-run'] === true) {
      report(await deps.cleanup(config, { dryRun: true, logger }));
      return EXIT.ok;
    }
    if (values['yes'] !== true) {
      const preview = await deps.cleanup(config, { dryRun: true, logger });
      if (count(preview) === 0) {
        report(preview);
        return EXIT.ok;
      }
      talk.write(formatCleanup(preview));
      if (io.prompt === undefined) {
        throw usageError('refusing to delete without confirmation: stdin is not a terminal; pass --yes to delete, or --dry-run to only list', 'cleanup');
      }
      const answer = await io.prompt(`\nThis deletes the records above. Type the bridge id (${config.bridge.id}) to confirm: `);
      if (answer.trim() !== config.bridge.id) {
        talk.write('aborted: the answer did not match the bridge id; nothing was removed\n');
        return EXIT.error;
      }
    }
    report(await deps.cleanup(config, { dryRun: false, logger }));
    return EXIT.ok;
  },
};

function count(r: CleanupReport): number {
  return r.removed.reduce((n, s) => n + s.refs.length, 0);
}

export function formatCleanup(r: CleanupReport): string {
  const n = count(r);
  if (n === 0) return `bridge ${r.bridgeId} owns nothing in any target registry; nothing to remove\n`;
  const verb = r.dryRun ? 'would remove' : 'removed';
  let out = `bridge ${r.bridgeId}: ${verb} the records of ${n} ${n === 1 ? 'service' : 'services'}\n`;
  for (const s of r.removed) {
    if (s.refs.length === 0) continue;
    out += `\n${s.sink} (${s.refs.length})\n`;
    for (const ref of s.refs) out += `  ${refKey(ref)}\n`;
  }
  return out;
}
